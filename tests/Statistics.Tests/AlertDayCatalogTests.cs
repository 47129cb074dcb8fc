using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// The catalog's alert days, which GET /api/alerts reads in order until it has its limit. Review
/// finding: a day stayed listed once it had held an alert, so alerts withdrawn or moved to later
/// days (a customer's ratio alert follows their latest cancellation) left days that every query
/// read, a few at a time, and with enough of them the query ran out of time.
/// </summary>
public sealed class AlertDayCatalogTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_day_whose_alerts_are_all_withdrawn_is_no_longer_listed_and_is_listed_again_when_one_stands()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("alertdays"), ct);
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var catalog = cluster.Client.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation));
        var day = new DateOnly(2026, 11, 3);
        var feed = cluster.Client.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(generation, day));
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        var alert = new RiskAlert("alert-1", "cancel-ratio", "customer-1", "order-1", at, "two of three orders cancelled");

        await feed.Apply("customer-1", 1, [alert], []);
        Assert.Contains(day, await catalog.AlertDays());

        await feed.Apply("customer-1", 2, [], [alert.Id]); // moved to a later day
        Assert.DoesNotContain(day, await catalog.AlertDays());
        Assert.Empty(await cluster.Client.GetGrain<IStatisticsGrain>(0).Alerts(since: null, limit: 100));

        await feed.ShowLive("customer-1", 3, [alert with { Id = "alert-2" }]);
        Assert.Contains(day, await catalog.AlertDays());

        await cluster.DeactivateAsync(feed); // a new activation knows nothing of the catalog
        await feed.Apply("customer-1", 3, [], []);
        Assert.DoesNotContain(day, await catalog.AlertDays());
    }
}
