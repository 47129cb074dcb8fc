using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// A summary over whole months takes one bucket per month and shard, merged by the month
/// (<see cref="IMonthStatsGrain.GetTotal"/>), which keeps its whole total until a day changes: every
/// way a day's rollup is replaced (a live copy, a push) must show in the next total, the total
/// answered without a copy must come out of a summary unchanged, and a partial range must count
/// its days only. A time series by day takes each day's figures from the months alike
/// (<see cref="IMonthStatsGrain.GetDaySeries"/>), and one by hour each day's hours (<see cref="IMonthStatsGrain.GetHourSeries"/>).
/// </summary>
public sealed class MonthTotalTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_month_s_total_follows_every_live_copy_and_push_of_its_days()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("monthtotal"), ct, LiveBatchTests.Settings);
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var date = DateOnly.FromDateTime(LiveBatchTests.At.UtcDateTime);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, 3, date.Year, date.Month));

        async Task AssertPlacedAsync(long expected)
        {
            Assert.Equal(expected, Placed((await month.GetTotal(1, IMonthStatsGrain.ToMonthEnd)).Value));
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(expected, (await cluster.Reader.Summary(null, null, ct)).Events[OrderPlaced.StoredName]);
            }
        }

        await month.SetLiveDay(14, CountingWhileFlushingTests.Rollup(events: 2, revision: 0), []);
        await AssertPlacedAsync(2);

        await month.SetLiveDay(14, CountingWhileFlushingTests.Rollup(events: 5, revision: 0), []);
        await AssertPlacedAsync(5);

        await month.SetDay(14, CountingWhileFlushingTests.Rollup(events: 8, revision: 1), baseRevision: 0, []);
        await AssertPlacedAsync(8);

        await month.SetLiveDay(20, CountingWhileFlushingTests.Rollup(events: 1, revision: 0), []);
        await AssertPlacedAsync(9);
        Assert.Equal(8, Placed((await month.GetTotal(14, 15)).Value));
        Assert.Equal(1, Placed((await month.GetTotal(15, IMonthStatsGrain.ToMonthEnd)).Value));
        Assert.Equal(0, Placed((await month.GetTotal(1, 14)).Value));

        var daySeries = (await month.GetDaySeries(1, IMonthStatsGrain.ToMonthEnd)).Value;
        Assert.Equal([14, 20], daySeries.Keys.Order());
        Assert.Equal(8, daySeries[14].EnteredCount(OrderStatus.Placed));
        Assert.Equal([20], (await month.GetDaySeries(15, IMonthStatsGrain.ToMonthEnd)).Value.Keys);
        var monthStart = new DateTimeOffset(date.Year, date.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var series = await cluster.Reader.TimeSeries(monthStart, monthStart.AddMonths(1), StatsInterval.Day, ct);
        Assert.Equal([(14, 8L), (20, 1L)], series.Buckets.Where(b => b.Placed > 0).Select(b => (b.Start.Day, b.Placed)));

        // By hour, each day's hours (its rollup's minute 600: hour 10).
        var hourSeries = (await month.GetHourSeries(1, IMonthStatsGrain.ToMonthEnd)).Value;
        Assert.Equal([14, 20], hourSeries.Keys.Order());
        Assert.Equal(8, hourSeries[14][10].EnteredCount(OrderStatus.Placed));
        var byHour = await cluster.Reader.TimeSeries(monthStart.AddDays(13), monthStart.AddDays(20), StatsInterval.Hour, ct);
        Assert.Equal([(14, 10, 8L), (20, 10, 1L)], byHour.Buckets.Where(b => b.Placed > 0).Select(b => (b.Start.Day, b.Start.Hour, b.Placed)));

        // The live copy of day 20 was kept in memory only; the push of day 14 was stored.
        await cluster.DeactivateAsync(month);
        await AssertPlacedAsync(8);
    }

    private static long Placed(StatsBucket bucket) => bucket.Events.GetValueOrDefault(OrderPlaced.StoredName);
}
