using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics.Queries;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// The best-selling products of all time are kept between queries (<see cref="AllTimeProductsGrain"/>),
/// and a month sends its products only when they changed since (<see cref="IMonthStatsGrain.GetProductsIfChanged"/>): every
/// way a month's products change (a live copy, a larger one, a push, another month, a deactivation
/// that loses the live copies) must show in the next answer, and a month that did not change must
/// answer nothing.
/// </summary>
public sealed class AllTimeProductsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_best_sellers_follow_every_change_of_every_month()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("alltimeproducts"), ct, LiveBatchTests.Settings);
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var october = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, 3, 2026, 10));
        var november = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, 5, 2026, 11));
        var statistics = cluster.Client.GetGrain<IStatisticsGrain>(0);

        async Task AssertSoldAsync(params (string Sku, long Quantity, decimal Revenue)[] expected)
        {
            // Twice: the second answer is made of what the first kept.
            for (var i = 0; i < 2; i++)
            {
                var report = await statistics.TopProducts(10, byQuantity: true);
                Assert.Equal(expected, report.Products.Select(p => (p.Sku, p.Quantity, p.Revenue)));
            }
        }

        await october.SetLiveDay(14, CountingWhileFlushingTests.Rollup(events: 2, revision: 0), [Push(0, 1, ("SKU-1", 2, 20m))]);
        await AssertSoldAsync(("SKU-1", 2, 20m));

        await october.SetLiveDay(14, CountingWhileFlushingTests.Rollup(events: 3, revision: 0), [Push(0, 1, ("SKU-1", 3, 30m), ("SKU-2", 1, 5.5m))]);
        await AssertSoldAsync(("SKU-1", 3, 30m), ("SKU-2", 1, 5.5m));

        // The push applies what the live copy showed, and more; the live copy's increment, of an older base, no longer counts.
        await october.SetDay(14, CountingWhileFlushingTests.Rollup(events: 4, revision: 1), 0, Sales(("SKU-1", 4, 40m)));
        await AssertSoldAsync(("SKU-1", 4, 40m));

        await november.SetDay(2, CountingWhileFlushingTests.Rollup(events: 1, revision: 1), 0, Sales(("SKU-2", 7, 7.25m), ("SKU-3", 1, 1m)));
        await AssertSoldAsync(("SKU-2", 7, 7.25m), ("SKU-1", 4, 40m), ("SKU-3", 1, 1m));

        await november.SetLiveDay(3, CountingWhileFlushingTests.Rollup(events: 1, revision: 0), [Push(0, 1, ("SKU-1", 5, 50.50m))]);
        await AssertSoldAsync(("SKU-1", 9, 90.50m), ("SKU-2", 7, 7.25m), ("SKU-3", 1, 1m));

        // Live copies are kept in memory only: another activation has the pushes alone.
        await cluster.DeactivateAsync(november);
        await AssertSoldAsync(("SKU-2", 7, 7.25m), ("SKU-1", 4, 40m), ("SKU-3", 1, 1m));
        Assert.Equal("40", (await statistics.TopProducts(10, byQuantity: false)).Products.Single(p => p.Sku == "SKU-1").Revenue.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_month_that_did_not_change_answers_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("productsversion"), ct, LiveBatchTests.Settings);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 10));
        await month.SetDay(1, CountingWhileFlushingTests.Rollup(events: 1, revision: 1), 0, Sales(("SKU-1", 1, 1m)));

        var first = await month.GetProductsIfChanged(null);
        Assert.NotNull(first);
        Assert.Null(await month.GetProductsIfChanged(first.Version));
        Assert.Equal(first.Version, (await month.GetProducts()).Version);

        await month.SetLiveDay(2, CountingWhileFlushingTests.Rollup(events: 1, revision: 0), []);
        var second = await month.GetProductsIfChanged(first.Version);
        Assert.NotNull(second);
        Assert.NotEqual(first.Version, second.Version);

        await cluster.DeactivateAsync(month);
        var third = await month.GetProductsIfChanged(second.Version);
        Assert.NotNull(third);
        Assert.Equal(1, third.Listed["SKU-1"].Quantity);
    }

    /// <summary>
    /// What the grain keeps is what saves the work: a query after one that read every month gets
    /// products from the months that changed since, and from no other.
    /// </summary>
    [Fact]
    public async Task Only_the_months_that_changed_since_the_last_query_send_their_products()
    {
        var ct = TestContext.Current.CancellationToken;
        var sent = 0;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("productssent"), ct, LiveBatchTests.Settings,
            silo => silo.AddIncomingGrainCallFilter(async call =>
            {
                await call.Invoke();
                if (call.InterfaceMethod.Name == nameof(IMonthStatsGrain.GetProductsIfChanged) && call.Result is not null)
                {
                    Interlocked.Increment(ref sent);
                }
            }));
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        IMonthStatsGrain Month(int shard, int month) => cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, shard, 2026, month));
        foreach (var month in new[] { 8, 9, 10 })
        {
            await Month(0, month).SetDay(1, CountingWhileFlushingTests.Rollup(events: 1, revision: 1), 0, Sales(("SKU-" + month, month, month)));
        }

        var statistics = cluster.Client.GetGrain<IStatisticsGrain>(0);
        await statistics.TopProducts(10, byQuantity: true);
        Assert.Equal(3 * OrderEventStreams.ShardCount, Volatile.Read(ref sent)); // every month of every shard, the empty ones too

        await statistics.TopProducts(10, byQuantity: true);
        Assert.Equal(3 * OrderEventStreams.ShardCount, Volatile.Read(ref sent));

        await Month(0, 10).SetLiveDay(2, CountingWhileFlushingTests.Rollup(events: 1, revision: 0), [Push(0, 1, ("SKU-9", 2, 2m))]);
        var report = await statistics.TopProducts(10, byQuantity: true);
        Assert.Equal(3 * OrderEventStreams.ShardCount + 1, Volatile.Read(ref sent));
        Assert.Equal([("SKU-9", 11L, 11m), ("SKU-10", 10L, 10m), ("SKU-8", 8L, 8m)], report.Products.Select(p => (p.Sku, p.Quantity, p.Revenue)));
    }

    /// <summary>
    /// A push of which only the rollup landed is sent again, and then changes the month's products
    /// alone (its rollup is held already): the best sellers must show it.
    /// </summary>
    [Fact]
    public async Task A_push_whose_products_had_not_landed_shows_when_sent_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("productslanded"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, 2, 2026, 10));
        storage.Target = month.GetGrainId();
        var statistics = cluster.Client.GetGrain<IStatisticsGrain>(0);
        var rollup = CountingWhileFlushingTests.Rollup(events: 1, revision: 1);

        storage.FailNextWrites(1, stateName: "products");
        await Assert.ThrowsAnyAsync<Exception>(() => month.SetDay(3, rollup, 0, Sales(("SKU-1", 2, 20m))));
        await cluster.DeactivateAsync(month);
        Assert.Equal(0, await month.RevisionOf(3));
        Assert.Empty((await statistics.TopProducts(10, byQuantity: true)).Products);

        await month.SetDay(3, rollup, 0, Sales(("SKU-1", 2, 20m)));
        Assert.Equal(1, await month.RevisionOf(3));
        Assert.Equal([new ProductSales("SKU-1", 2, 20m)], (await statistics.TopProducts(10, byQuantity: true)).Products);
    }

    private static Dictionary<string, ProductTotals> Sales(params (string Sku, long Quantity, decimal Revenue)[] sales) =>
        sales.ToDictionary(sale => sale.Sku, sale => new ProductTotals { Quantity = sale.Quantity, Revenue = sale.Revenue });

    private static MonthPush Push(long baseRevision, long revision, params (string Sku, long Quantity, decimal Revenue)[] sales) =>
        new(baseRevision, revision, Sales(sales));
}
