using OrderFlow.Grains.Projections;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// A summary over part of a day takes one bucket per shard, the day's minutes in range merged by the
/// day (<see cref="IDayStatsGrain.GetMinutesTotal"/>), not every minute's bucket with its latency
/// sketches, and so does a partial first or last bucket of a time series by hour or by day: the
/// minutes at the range's edges count or not as the range says, and no minute buckets are asked for. The tests that compare summaries of any alignment with their model
/// (<c>ApiScenarioTests</c>, <c>RestartTests</c>) check the figures at large.
/// </summary>
public sealed class PartialDayTotalTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_summary_over_part_of_a_day_takes_one_bucket_per_shard_and_the_minutes_in_range()
    {
        var ct = TestContext.Current.CancellationToken;
        var minuteCalls = 0;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("partialday"), ct, LiveBatchTests.Settings,
            silo => silo.AddIncomingGrainCallFilter(async call =>
            {
                if (call.InterfaceMethod.Name == nameof(IDayStatsGrain.GetMinutes))
                {
                    Interlocked.Increment(ref minuteCalls);
                }

                await call.Invoke();
            }));
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var day = new DateTimeOffset(2026, 10, 14, 0, 0, 0, TimeSpan.Zero);

        // Placed at minutes 0, 5, 5 and 1439 of the day, on two shards.
        await ProjectionRegistry.DeliverAsync(cluster.Client,
        [
            LiveBatchTests.Placed(StatsCluster.IdOnShard("edge-first", 1), "c", day.AddMinutes(-1).AddSeconds(30)),
            LiveBatchTests.Placed(StatsCluster.IdOnShard("inside-a", 1), "c", day.AddMinutes(4).AddSeconds(1)),
            LiveBatchTests.Placed(StatsCluster.IdOnShard("inside-b", 6), "c", day.AddMinutes(4).AddSeconds(59)),
            LiveBatchTests.Placed(StatsCluster.IdOnShard("edge-last", 6), "c", day.AddMinutes(1438)),
        ], [generation]);

        Assert.Equal(4, (await cluster.Reader.Summary(day, day.AddDays(1), ct)).Orders["placed"]);
        Assert.Equal(2, (await cluster.Reader.Summary(day.AddMinutes(1), day.AddDays(1).AddMinutes(-1), ct)).Orders["placed"]);
        Assert.Equal(3, (await cluster.Reader.Summary(day.AddMinutes(5), day.AddDays(1).AddMinutes(1), ct)).Orders["placed"]);

        // By hour or by day, a partial first or last bucket is one bucket per shard too.
        var hours = await cluster.Reader.TimeSeries(day.AddMinutes(1), day.AddHours(2).AddMinutes(30), StatsInterval.Hour, ct);
        Assert.Equal([2L, 0L, 0L], hours.Buckets.Select(bucket => bucket.Placed));
        Assert.Equal([true, false, true], hours.Buckets.Select(bucket => bucket.Partial));
        var days = await cluster.Reader.TimeSeries(day.AddMinutes(1), day.AddDays(1).AddMinutes(-1), StatsInterval.Day, ct);
        Assert.Equal(2, Assert.Single(days.Buckets).Placed);
        var lastHour = await cluster.Reader.TimeSeries(day.AddHours(23), day.AddDays(1).AddMinutes(-1), StatsInterval.Hour, ct);
        Assert.Equal(0, Assert.Single(lastHour.Buckets).Placed);
        Assert.Equal(0, Volatile.Read(ref minuteCalls));

        var shard6 = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(generation, 6, DateOnly.FromDateTime(day.UtcDateTime)));
        Assert.Equal(2, (await shard6.GetMinutesTotal(0, 1440)).Value.EnteredCount(Orders.OrderStatus.Placed));
        Assert.Equal(1, (await shard6.GetMinutesTotal(1439, 1440)).Value.EnteredCount(Orders.OrderStatus.Placed));
    }
}
