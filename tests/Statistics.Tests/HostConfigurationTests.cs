using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrderFlow.Silo;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>README "Configuration" and "Cluster mode": settings the hosts rely on.</summary>
public sealed class HostConfigurationTests(AzuriteFixture azurite)
{
    /// <summary>README: <c>Dashboard:Enabled</c> (default true) registers the Orleans Dashboard; false must leave a working API without it.</summary>
    [Fact]
    public async Task The_api_starts_with_the_dashboard_disabled()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, new Dictionary<string, string?> { ["Dashboard:Enabled"] = "false" });
        using var response = await host.Http.GetAsync("/api/stats/summary", ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// README "Benchmarks": a <see cref="StorageClientPolicy"/> registered as a service sees the
    /// requests of the system's own storage clients, the event log's append (an entity-group
    /// transaction) and the statistics' grain storage among them; the benchmark counts storage
    /// transactions per command with one.
    /// </summary>
    [Fact]
    public async Task A_storage_client_policy_sees_the_event_log_and_the_statistics_requests()
    {
        var ct = TestContext.Current.CancellationToken;
        var seen = new RequestPaths();
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, services: services => services.AddSingleton(new StorageClientPolicy(seen)));
        using var placed = await host.Http.PostAsJsonAsync("/api/orders", new
        {
            orderId = "policy-1",
            customerId = "customer-policy",
            currency = "EUR",
            items = new[] { new { sku = "SKU-1", quantity = 1, unitPrice = 10.00m } },
        }, ct);
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);

        // The statistics persist on their flush timer: poll with a generous deadline.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!seen.Any(host.StatisticsTable) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        Assert.True(seen.Any("$batch"), "no entity-group transaction (the append) was seen: " + seen);
        Assert.True(seen.Any(host.EventsTable), "no request to the event log's tables was seen: " + seen);
        Assert.True(seen.Any(host.StatisticsTable), "no request to the statistics' grain storage was seen: " + seen);
    }

    /// <summary>The paths of the requests it sees.</summary>
    private sealed class RequestPaths : HttpPipelineSynchronousPolicy
    {
        private readonly ConcurrentQueue<string> paths = new();

        public bool Any(string part) => paths.Any(path => path.Contains(part, StringComparison.Ordinal));

        public override void OnSendingRequest(HttpMessage message) => paths.Enqueue(message.Request.Uri.Path);

        public override string ToString() => string.Join(", ", paths.Distinct().Take(20));
    }

    /// <summary>
    /// Orleans reads the <c>Orleans</c> section itself and took an <c>Orleans:Clustering</c> value for
    /// a provider of its own, refusing to start ("Could not find Clustering provider named 'Default'").
    /// </summary>
    [Fact]
    public async Task The_api_starts_with_the_clustering_named_in_configuration()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, new Dictionary<string, string?> { ["Orleans:Clustering"] = "Localhost" });
        await host.WaitUntilReadyAsync(ct);
    }

    /// <summary>
    /// A standalone silo stopped by SIGTERM (run.sh, a rolling restart, Container Apps) hands its
    /// grains over only within the host's deadline; the .NET default of 30 s was no longer than one
    /// grain call may take, leaving nothing for the silo's own stop.
    /// </summary>
    [Fact]
    public void A_standalone_silo_is_given_time_to_finish_its_calls_and_then_stop()
    {
        using var host = SiloApplication.Build([], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Dashboard:Enabled"] = "false",
        }));

        var deadline = host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
        var responseTimeout = host.Services.GetRequiredService<IOptions<Orleans.Configuration.SiloMessagingOptions>>().Value.ResponseTimeout;
        Assert.True(deadline >= responseTimeout + TimeSpan.FromSeconds(10), $"Shutdown deadline {deadline} against a grain response timeout of {responseTimeout}.");
    }

    [Fact]
    public void Without_settings_one_process_hosts_everything_on_localhost()
    {
        var configuration = Configuration([]);
        var settings = OrleansHostSettings.From(configuration);
        Assert.Equal(ClusteringProvider.Localhost, settings.Clustering);
        Assert.Equal(ApiHostShape.CoHosted, settings.ApiHost);
        Assert.Equal(("orderflow", "orderflow-dev", 11111, 30000), (settings.ServiceId, settings.ClusterId, settings.SiloPort, settings.GatewayPort));
        Assert.Equal("OrleansSiloInstances", settings.ClusteringTable);
        Assert.Equal(TimeSpan.FromSeconds(7), settings.ClientResponseTimeout);
        Assert.Equal(IPAddress.Loopback, settings.ResolveAdvertisedAddress());
        Assert.Equal("Memory", OrderFlowSiloExtensions.DefaultStreamsProvider(configuration));
    }

    [Fact]
    public void Table_clustering_brings_queue_streams_and_a_routable_address_unless_told_otherwise()
    {
        var table = Configuration(new() { ["Orleans:Clustering"] = "AzureTable" });
        Assert.Equal("AzureQueue", OrderFlowSiloExtensions.DefaultStreamsProvider(table));
        Assert.False(IPAddress.IsLoopback(OrleansHostSettings.From(table).ResolveAdvertisedAddress()) && HasNonLoopbackIPv4(),
            "a silo of a table-clustered cluster advertised loopback although the machine has another address");

        var pinned = OrleansHostSettings.From(Configuration(new() { ["Orleans:Clustering"] = "azuretable", ["Orleans:AdvertisedAddress"] = "10.1.2.3" }));
        Assert.Equal(ClusteringProvider.AzureTable, pinned.Clustering);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), pinned.ResolveAdvertisedAddress());
    }

    [Theory]
    [InlineData("Orleans:Clustering", "Consul")]
    [InlineData("Orleans:ApiHost", "Sidecar")]
    [InlineData("Orleans:Clustering", "7")]
    [InlineData("Orleans:ProbePort", "0")]
    [InlineData("Orleans:ProbePort", "70000")]
    [InlineData("Orleans:ProbePort", "30000")] // the gateway's: it would be bound before the silo is active
    [InlineData("Orleans:ProbePort", "11111")]
    [InlineData("Orleans:ClientResponseTimeout", "00:00:00")] // review finding: accepted, every grain call then failed
    [InlineData("Orleans:ClientResponseTimeout", "-00:00:01")]
    [InlineData("Orleans:GatewayListRefreshPeriod", "00:00:00")]
    public void An_unknown_shape_is_refused_naming_the_setting(string key, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => OrleansHostSettings.From(Configuration(new() { [key] = value })));
        Assert.Contains(key, error.Message);
        Assert.Contains(value, error.Message);
    }

    [Fact]
    public void The_membership_table_uses_its_own_connection_string_else_the_tables_one()
    {
        const string tables = "DefaultEndpointsProtocol=http;AccountName=tablesacct;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/tablesacct;";
        const string members = "DefaultEndpointsProtocol=http;AccountName=membersacct;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:2/membersacct;";
        Assert.Equal("tablesacct", OrderFlowSiloExtensions.CreateClusteringTableServiceClient(
            Configuration(new() { ["ConnectionStrings:Tables"] = tables })).AccountName);
        Assert.Equal("membersacct", OrderFlowSiloExtensions.CreateClusteringTableServiceClient(
            Configuration(new() { ["ConnectionStrings:Tables"] = tables, ["ConnectionStrings:Clustering"] = members })).AccountName);
    }

    /// <summary>README "Configuration": the queues' connection, else the tables' one, an endpoint URI made the queue service's.</summary>
    [Theory]
    [InlineData("https://acct.table.core.windows.net", "https://acct.queue.core.windows.net/")]
    [InlineData("https://acct.table.core.chinacloudapi.cn/", "https://acct.queue.core.chinacloudapi.cn/")]
    [InlineData("https://ACCT.Table.core.usgovcloudapi.net/", "https://acct.queue.core.usgovcloudapi.net/")]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/a;QueueEndpoint=http://127.0.0.1:2/a;",
        "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/a;QueueEndpoint=http://127.0.0.1:2/a;")]
    [InlineData(null, "UseDevelopmentStorage=true")]
    public void The_queues_connection_falls_back_to_the_tables_one_on_the_queue_service(string? tables, string expected)
    {
        Assert.Equal(expected, OrderFlowSiloExtensions.QueuesConnection(Configuration(new() { ["ConnectionStrings:Tables"] = tables })));
    }

    [Fact]
    public void The_queues_own_connection_wins_over_the_tables_one()
    {
        Assert.Equal("https://other.queue.core.windows.net", OrderFlowSiloExtensions.QueuesConnection(Configuration(new()
        {
            ["ConnectionStrings:Tables"] = "https://acct.table.core.windows.net",
            ["ConnectionStrings:Queues"] = "https://other.queue.core.windows.net",
        })));
    }

    /// <summary>An endpoint URI that is no table service's (Azurite's) names no queue service: the silo refuses to start, naming the setting.</summary>
    [Theory]
    [InlineData("http://127.0.0.1:10002/devstoreaccount1")]
    [InlineData("https://storage.example.com/")]
    public void A_tables_endpoint_without_a_table_label_asks_for_the_queues_connection(string tables)
    {
        var error = Assert.Throws<InvalidOperationException>(() => OrderFlowSiloExtensions.QueuesConnection(Configuration(new() { ["ConnectionStrings:Tables"] = tables })));
        Assert.Contains("ConnectionStrings:Queues", error.Message, StringComparison.Ordinal);
        Assert.Contains(tables, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Membership_is_tuned_for_fast_detection_and_each_figure_can_be_overridden()
    {
        var services = new ServiceCollection();
        MembershipTuning.Configure(services, Configuration(new() { ["Orleans:Membership:ProbeTimeout"] = "00:00:02", ["Orleans:Membership:NumVotesForDeathDeclaration"] = "1" }));
        var options = services.BuildServiceProvider().GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(2), options.ProbeTimeout);
        Assert.Equal(1, options.NumVotesForDeathDeclaration);
        Assert.Equal(MembershipTuning.NumMissedProbesLimit, options.NumMissedProbesLimit);
        Assert.Equal(MembershipTuning.IAmAliveTablePublishTimeout, options.IAmAliveTablePublishTimeout);
        Assert.Equal(MembershipTuning.TableRefreshTimeout, options.TableRefreshTimeout);
        Assert.Equal(MembershipTuning.DefunctSiloExpiration, options.DefunctSiloExpiration);
    }

    [Fact]
    public void Idle_orders_leave_memory_sooner_than_other_grains_and_memory_pressure_sheds_activations()
    {
        var services = new ServiceCollection();
        GrainCollectionTuning.Configure(services, Configuration(new() { ["Orleans:GrainCollection:MemoryUsageLimitPercentage"] = "90" }));
        var options = services.BuildServiceProvider().GetRequiredService<IOptions<GrainCollectionOptions>>().Value;
        Assert.Equal(GrainCollectionTuning.OrderCollectionAge, options.ClassSpecificCollectionAge[typeof(OrderFlow.Grains.Orders.OrderGrain).FullName!]);
        Assert.True(options.ClassSpecificCollectionAge[typeof(OrderFlow.Grains.Orders.OrderGrain).FullName!] < options.CollectionAge);
        Assert.True(options.EnableActivationSheddingOnMemoryPressure);
        Assert.Equal(90, options.MemoryUsageLimitPercentage);
        Assert.Equal(GrainCollectionTuning.MemoryUsageTargetPercentage, options.MemoryUsageTargetPercentage);
    }

    /// <summary>
    /// README "Configuration": an idle order's activation is collected after its age
    /// (<c>Orleans:GrainCollection</c>), so a silo's memory does not grow with every order it
    /// served; the order reads the same from its log afterwards.
    /// </summary>
    [Fact]
    public async Task An_idle_order_is_deactivated_and_reads_the_same_afterwards()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, new Dictionary<string, string?>
        {
            ["Orleans:GrainCollection:CollectionQuantum"] = "00:00:01",
            // Long enough that the order is still active when the test first looks, on a loaded machine too.
            [$"Orleans:GrainCollection:ClassSpecificCollectionAge:{typeof(OrderFlow.Grains.Orders.OrderGrain).FullName}"] = "00:00:10",
        });
        using var placed = await host.Http.PostAsJsonAsync("/api/orders", new
        {
            orderId = "collected-1",
            customerId = "customer-collected",
            currency = "EUR",
            items = new[] { new { sku = "SKU-1", quantity = 2, unitPrice = 10.00m } },
        }, ct);
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var before = await placed.Content.ReadAsStringAsync(ct);
        Assert.True(await OrderActivationsAsync(host, ct) > 0, "the placed order has no activation");

        // Collection runs on its own timer: poll with a generous deadline.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await OrderActivationsAsync(host, ct) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, ct);
        }

        Assert.Equal(0, await OrderActivationsAsync(host, ct));
        var after = await host.Http.GetStringAsync("/api/orders/collected-1", ct);
        Assert.Equal(before, after);
    }

    private static async Task<int> OrderActivationsAsync(StatsApiHost host, CancellationToken ct)
    {
        var report = await host.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/admin/cluster", ct);
        return report.GetProperty("silos").EnumerateArray()
            .SelectMany(silo => silo.GetProperty("activationsByGrainType").EnumerateObject())
            .Where(type => type.Name.Contains(".OrderGrain", StringComparison.Ordinal))
            .Sum(type => type.Value.GetInt32());
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static bool HasNonLoopbackIPv4() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Any(a => a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a.Address));
}
