using System.Net;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Statistics queries while the storage behind the projections is down or hangs. The projections
/// read their state through Orleans grain storage, whose failures arrive as other exception types
/// than the event log's; a query writes nothing, so each is a 503 with Retry-After, never a 500.
/// </summary>
public sealed class StatisticsOutageTests
{
    /// <summary>Part of a day no query has touched: its day projections (one per shard) must read their state from storage.</summary>
    private const string UntouchedRange = "/api/stats/summary?from=2031-03-01T00:00:00Z&to=2031-03-01T06:00:00Z";

    [Fact]
    public async Task While_storage_is_down_a_statistics_query_is_503_with_Retry_After()
    {
        await using var storage = await Azurite.StartNewAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var host = await ApiHost.StartAsync(storage.ConnectionString);
        using (var warm = await host.Reader.GetAsync("/api/stats/summary"))
        {
            await warm.AssertJsonAsync(HttpStatusCode.OK);
        }

        await storage.StopAsync();

        using var response = await host.Reader.GetAsync(UntouchedRange);
        await AssertUnavailableAsync(response);
    }

    [Fact]
    public async Task While_storage_hangs_a_statistics_query_is_503_with_Retry_After()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "Suspends Azurite with SIGSTOP.");
        await using var storage = await Azurite.StartNewAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var host = await ApiHost.StartAsync(storage.ConnectionString);
        using (var warm = await host.Reader.GetAsync("/api/stats/summary"))
        {
            await warm.AssertJsonAsync(HttpStatusCode.OK);
        }

        using (storage.Suspend())
        {
            using var response = await host.Reader.GetAsync(UntouchedRange);
            await AssertUnavailableAsync(response);
        }

        // Storage answers again: so does the query.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var again = await host.Reader.GetAsync(UntouchedRange);
            if (again.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            await AssertUnavailableAsync(again);
            Assert.True(DateTime.UtcNow < deadline, "The summary did not answer 200 within 60 s of storage coming back.");
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.NotEqual("/problems/internal", problem.Str("type"));
        var retryAfter = response.Headers.RetryAfter;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter.Delta > TimeSpan.Zero, $"Retry-After: {retryAfter}");
    }
}
