using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;
using Orleans.Runtime;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Orleans keeps one activation per grain, but not while the cluster's membership changes: a
/// rolling restart ran a day grain in a new silo 0.85 s before its activation in the stopping silo
/// made its last flush, and the new one wrote over the old one's row (the best sellers stayed wrong
/// for good). Here the other activation's write is made through the silo's own storage, with a
/// grain state of its own, as that activation's would be.
/// </summary>
public sealed class SupersededActivationTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_day_whose_row_another_activation_wrote_stops_instead_of_writing_over_it_and_its_next_activation_counts_on_top()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("superseded"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var at = LiveBatchTests.At;
        var (first, others, last) = (StatsCluster.IdOnShard("first", 2), StatsCluster.IdOnShard("others", 2), StatsCluster.IdOnShard("last", 2));
        var day = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(generation, 2, DateOnly.FromDateTime(at.UtcDateTime)));
        await day.IngestBatch([LiveBatchTests.Placed(first, "c", at)]);
        await day.Flush();

        // The other activation loads the row, counts an order of its own and writes.
        var other = new GrainState<DayStatsState>(new DayStatsState());
        await storage.ReadStateAsync("day", day.GetGrainId(), other);
        other.State!.Count(LiveBatchTests.Placed(others, "c", at), DateOnly.FromDateTime(at.UtcDateTime));
        await storage.WriteStateAsync("day", day.GetGrainId(), other);

        await day.IngestBatch([LiveBatchTests.Placed(last, "c", at)]);
        await Assert.ThrowsAsync<ProjectionSupersededException>(() => day.Flush());

        var stored = new GrainState<DayStatsState>(new DayStatsState());
        await storage.ReadStateAsync("day", day.GetGrainId(), stored);
        Assert.Equal([1], stored.State!.Counted.VersionsOf(others));
        Assert.Empty(stored.State!.Counted.VersionsOf(last));

        // The stream delivers again what the superseded activation took (it refuses batches, and deactivates).
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                await day.IngestBatch([LiveBatchTests.Placed(last, "c", at)]);
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, "the next activation of the day to count the batch", ct);
        await day.Flush();
        Assert.Equal(3, (await cluster.Reader.Summary(null, null, ct)).Events[nameof(OrderPlaced)]);
    }

    /// <summary>
    /// A month activation that another one's push has passed by (it applied revision 2 of a day while
    /// this one held revision 1) took the next push for a month out of step with its day, and asked
    /// for every projection to be derived again from the log. It reads its rows again first: another
    /// activation wrote them, so it deactivates, and the day's push again lands in the next one.
    /// </summary>
    [Fact]
    public async Task A_month_that_another_activation_pushed_past_is_superseded_not_out_of_step()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("supersededmonth"), ct,
            configureSilo: silo => storage.Register(silo, StatisticsOptions.StorageName));
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 9));
        Dictionary<string, ProductTotals> Sold(int quantity) => new() { ["SKU-1"] = new() { Quantity = quantity, Revenue = 10m * quantity } };
        await month.SetDay(3, new DayRollup { Revision = 1 }, 0, Sold(2));

        // The other activation applies the day's push of revision 2 and writes both rows.
        var products = new GrainState<MonthProductsState>(new MonthProductsState());
        await storage.ReadStateAsync("products", month.GetGrainId(), products);
        ProductTotals.Merge(products.State!.Products, Sold(5));
        products.State!.Applied[3] = 2;
        var days = new GrainState<MonthStatsState>(new MonthStatsState());
        await storage.ReadStateAsync("month", month.GetGrainId(), days);
        days.State!.Days[3] = new DayRollup { Revision = 2 };
        await Task.WhenAll(storage.WriteStateAsync("products", month.GetGrainId(), products), storage.WriteStateAsync("month", month.GetGrainId(), days));

        await Assert.ThrowsAsync<ProjectionSupersededException>(() => month.SetDay(3, new DayRollup { Revision = 3 }, 2, Sold(1)));

        await Eventually.UntilAsync(async () =>
        {
            try
            {
                await month.SetDay(3, new DayRollup { Revision = 3 }, 2, Sold(1));
                return true;
            }
            catch (ProjectionSupersededException)
            {
                return false; // still the superseded activation
            }
        }, "the day's push to land in the month's next activation", ct);
        Assert.Equal(3, await month.RevisionOf(3));
        Assert.Equal(8, (await month.GetProducts()).Listed["SKU-1"].Quantity);
    }
}
