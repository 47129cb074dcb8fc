using System.Net;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>README "Configuration": settings the statistics hosts rely on.</summary>
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
}
