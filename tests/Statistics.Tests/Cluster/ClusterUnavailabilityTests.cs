using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests.Cluster;

/// <summary>
/// README "Cluster mode": a grain call that fails because a silo is dead or unreachable answers 503
/// with Retry-After (cluster-unavailable for a query, outcome-unknown for a command), never a 500.
/// </summary>
public sealed class ClusterUnavailabilityTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Every_kind_of_unreachable_silo_is_a_503_with_retry_after()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct,
            services: services => services.AddSingleton<IOutgoingGrainCallFilter, UnreachableGrainFilter>());

        for (var failure = 0; failure < UnreachableGrainFilter.Failures.Count; failure++)
        {
            var order = UnreachableGrainFilter.Prefix + failure;
            var kind = UnreachableGrainFilter.Failures[failure]().GetType().Name;

            using var query = await host.Http.GetAsync("/api/orders/" + order, ct);
            await AssertUnavailableAsync(query, "cluster-unavailable", kind, ct);

            using var command = await host.Http.PostAsync($"/api/orders/{order}/delivery",
                new StringContent("{}", Encoding.UTF8, "application/json"), ct);
            await AssertUnavailableAsync(command, "outcome-unknown", kind, ct);
        }
    }

    /// <summary>The API as a client whose every silo is gone: its gateway refuses connections (it was a 500).</summary>
    [Fact]
    public async Task A_client_whose_silos_are_all_gone_answers_503()
    {
        var ct = TestContext.Current.CancellationToken;
        var settings = new Dictionary<string, string?>(TableClusterSilo.OwnClusterSettings("gone"))
        {
            ["ConnectionStrings:Tables"] = azurite.ConnectionString,
            ["Streams:Provider"] = "Memory",
        };
        var silo = await TableClusterSilo.StartAsync(settings, ct);
        await using var api = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, new Dictionary<string, string?>(settings) { ["Orleans:ApiHost"] = "Client" });
        using (var before = await api.Http.GetAsync("/api/orders/gone-1", ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        }

        await silo.DisposeAsync();

        using var query = await api.Http.GetAsync("/api/orders/gone-1", ct);
        await AssertUnavailableAsync(query, "cluster-unavailable", "no silo left", ct);
        using var command = await api.Http.PostAsync("/api/orders/gone-1/delivery", new StringContent("{}", Encoding.UTF8, "application/json"), ct);
        await AssertUnavailableAsync(command, "outcome-unknown", "no silo left", ct);
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, string problem, string kind, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{kind}: {(int)response.StatusCode} {body}");
        Assert.True(response.Headers.RetryAfter is not null, $"{kind}: no Retry-After");
        using var document = JsonDocument.Parse(body);
        Assert.Equal("/problems/" + problem, document.RootElement.GetProperty("type").GetString());
    }
}
