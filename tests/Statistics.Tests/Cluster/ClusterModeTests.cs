using System.Net;
using System.Text;
using System.Text.Json;
using OrderFlow.Statistics.Tests.Infrastructure;

namespace OrderFlow.Statistics.Tests.Cluster;

/// <summary>
/// README "Cluster mode": standalone silos with Azure Table clustering form one cluster, the API
/// as an Orleans client serves commands and queries through it, the dashboard shows every silo, and
/// a silo of another cluster id on the same membership table stays out of it.
/// </summary>
public sealed class ClusterModeTests(TableClusterFixture cluster) : IClassFixture<TableClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Two_silos_on_one_membership_table_form_one_cluster()
    {
        var ct = TestContext.Current.CancellationToken;
        var expected = cluster.Silos.Select(s => s.SiloPort).Order().ToList();
        foreach (var silo in cluster.Silos)
        {
            var ports = await PollAsync(async () => await ActiveSiloPortsAsync(silo.Grains), seen => seen.SequenceEqual(expected), ct);
            Assert.Equal(expected, ports);
        }

        var body = await cluster.Api.WaitUntilReadyAsync(ct, timeout: Deadline);
        Assert.Contains("2 active silo(s)", body);
    }

    [Fact]
    public async Task The_api_as_a_client_serves_commands_queries_and_statistics()
    {
        var ct = TestContext.Current.CancellationToken;
        var customer = "cl-" + Guid.NewGuid().ToString("N")[..8];
        const int orders = 6; // placed at random: both silos take some
        for (var i = 0; i < orders; i++)
        {
            var order = $"{customer}-o{i}";
            using var placed = await PostAsync("/api/orders", new
            {
                orderId = order,
                customerId = customer,
                currency = "EUR",
                items = new[] { new { sku = "CL-1", quantity = 1, unitPrice = 10.50m } },
            }, ct);
            Assert.True(placed.StatusCode == HttpStatusCode.Created, await placed.Content.ReadAsStringAsync(ct));
            using var paid = await PostAsync($"/api/orders/{order}/payments", new { paymentId = "pay-" + order, amount = 10.50m, method = "card" }, ct);
            Assert.True(paid.StatusCode == HttpStatusCode.OK, await paid.Content.ReadAsStringAsync(ct));
        }

        using var read = await cluster.Api.Http.GetAsync($"/api/orders/{customer}-o0", ct);
        using var order0 = JsonDocument.Parse(await read.Content.ReadAsStringAsync(ct));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("paid", order0.RootElement.GetProperty("status").GetString());
        Assert.Equal(2, order0.RootElement.GetProperty("version").GetInt32());

        // The projections live in the silos and are fed by Azure Queue streams: counted once each.
        var counted = await PollAsync(async () => await CustomerOrdersAsync(customer, ct), n => n >= orders, ct);
        Assert.Equal(orders, counted);
    }

    [Fact]
    public async Task The_dashboard_served_by_the_client_shows_every_silo()
    {
        var ct = TestContext.Current.CancellationToken;
        var expected = cluster.Silos.Select(s => s.SiloPort).Order().ToList();
        var ports = await PollAsync(async () =>
        {
            using var response = await cluster.Api.Http.GetAsync("/dashboard/DashboardCounters", ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return [];
            }

            using var counters = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            return counters.RootElement.GetProperty("hosts").EnumerateArray()
                .Where(h => h.GetProperty("status").GetString() == "Active")
                .Select(h => int.Parse(h.GetProperty("siloAddress").GetString()!.Split(':', '@')[1], System.Globalization.CultureInfo.InvariantCulture))
                .Order().ToList();
        }, seen => seen.SequenceEqual(expected), ct);
        Assert.Equal(expected, ports);
    }

    [Fact]
    public async Task The_dashboard_of_the_client_stays_admin_only()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var api = await StatsApiHost.StartAsync(cluster.TablesConnectionString, ct, new Dictionary<string, string?>(cluster.Settings)
        {
            ["Orleans:ApiHost"] = "Client",
            ["Api:Keys:0:Key"] = "cluster-admin-key-3c1f",
            ["Api:Keys:0:Role"] = "admin",
            ["Api:Keys:1:Key"] = "cluster-reader-key-9a2e",
            ["Api:Keys:1:Role"] = "reader",
        });

        Assert.Equal(HttpStatusCode.Unauthorized, await DashboardStatusAsync(api, key: null, ct));
        Assert.Equal(HttpStatusCode.Forbidden, await DashboardStatusAsync(api, "cluster-reader-key-9a2e", ct));
        Assert.Equal(HttpStatusCode.OK, await DashboardStatusAsync(api, "cluster-admin-key-3c1f", ct));
    }

    private static async Task<HttpStatusCode> DashboardStatusAsync(StatsApiHost api, string? key, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/DashboardCounters");
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        using var response = await api.Http.SendAsync(request, ct);
        return response.StatusCode;
    }

    /// <summary>
    /// Container Apps probes a silo over TCP: the silo and gateway ports are bound before the silo
    /// has joined (found by a read-only review), so its probes go to a port that accepts only while
    /// the silo is active, and closes first when it stops.
    /// </summary>
    [Fact]
    public async Task The_probe_port_accepts_while_the_silo_is_active_and_closes_when_it_stops()
    {
        var ct = TestContext.Current.CancellationToken;
        var probePort = Testing.Azurite.FreePort();
        var settings = new Dictionary<string, string?>(cluster.Settings)
        {
            ["Orleans:ClusterId"] = "probe-" + Guid.NewGuid().ToString("N")[..12],
            ["Orleans:ProbePort"] = probePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["EventStore:TableName"] = Testing.TableNames.Unique("probeev"),
            ["Statistics:TableName"] = Testing.TableNames.Unique("probest"),
            ["Streams:Provider"] = "Memory",
        };
        var silo = await TableClusterSilo.StartAsync(settings, ct);
        try
        {
            Assert.Equal([silo.SiloPort], await ActiveSiloPortsAsync(silo.Grains));
            using var probe = new System.Net.Sockets.TcpClient();
            await probe.ConnectAsync(System.Net.IPAddress.Loopback, probePort, ct);
        }
        finally
        {
            await silo.DisposeAsync();
        }

        using var afterStop = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => afterStop.ConnectAsync(System.Net.IPAddress.Loopback, probePort, ct).AsTask());
    }

    [Fact]
    public async Task A_silo_of_another_cluster_id_on_the_same_membership_table_stays_isolated()
    {
        var ct = TestContext.Current.CancellationToken;
        var other = new Dictionary<string, string?>(cluster.Settings)
        {
            ["Orleans:ClusterId"] = "other-" + Guid.NewGuid().ToString("N")[..12],
            ["EventStore:TableName"] = Testing.TableNames.Unique("otherev"),
            ["Statistics:TableName"] = Testing.TableNames.Unique("otherst"),
            ["Streams:Provider"] = "Memory", // its own data: only membership is shared
        };
        await using var stranger = await TableClusterSilo.StartAsync(other, ct);

        Assert.Equal([stranger.SiloPort], await ActiveSiloPortsAsync(stranger.Grains));
        var members = cluster.Silos.Select(s => s.SiloPort).Order().ToList();
        foreach (var silo in cluster.Silos)
        {
            Assert.Equal(members, await ActiveSiloPortsAsync(silo.Grains));
        }

        // Orders placed through cluster A's client never activate on the stranger.
        for (var i = 0; i < 4; i++)
        {
            using var placed = await PostAsync("/api/orders", new
            {
                orderId = $"iso-{Guid.NewGuid():N}",
                customerId = "iso",
                currency = "EUR",
                items = new[] { new { sku = "ISO-1", quantity = 1, unitPrice = 1m } },
            }, ct);
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        }

        var strangerHosts = await stranger.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics(null, null, ct);
        Assert.DoesNotContain(strangerHosts, s => s.GrainType.Contains("OrderGrain", StringComparison.Ordinal));
    }

    private static async Task<List<int>> ActiveSiloPortsAsync(IGrainFactory grains)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        return [.. hosts.Keys.Select(address => address.Endpoint.Port).Order()];
    }

    private async Task<int> CustomerOrdersAsync(string customer, CancellationToken ct)
    {
        using var response = await cluster.Api.Http.GetAsync($"/api/stats/customers/{customer}", ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return 0;
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return document.RootElement.GetProperty("orders").GetInt32();
    }

    private Task<HttpResponseMessage> PostAsync(string path, object body, CancellationToken ct) =>
        cluster.Api.Http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), ct);

    /// <summary>Reads until <paramref name="done"/> holds or the deadline passes; returns the last value read.</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(250, ct);
        }
    }
}
