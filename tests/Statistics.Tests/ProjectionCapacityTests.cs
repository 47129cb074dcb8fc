using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics.StuckOrders;
using OrderFlow.Grains.Statistics;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Streams;
using OrderFlow.Statistics;
using OrderFlow.Testing;
using Orleans.Storage;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Projection state through the real statistics grain storage on Azurite: a busy projection
/// still fits its one entity (at most 1 MiB), and a write whose answer was lost does not stop it
/// persisting.
/// </summary>
public sealed class ProjectionCapacityTests(AzuriteFixture azurite)
{
    /// <summary>
    /// README's envelope for a day of one shard: 200,000 orders of 4 events (1.6 million orders a
    /// day over the 8 shards) with the longest order ids allowed (64 characters) and stage latencies
    /// spread over four orders of magnitude. In Orleans' default JSON grain state format 5,000
    /// such orders took 2.0 MiB; in binary, with ids and version lists as the memory of what was
    /// counted, 15,000 orders of 20-character ids exceeded the entity (Azurite measures the JSON
    /// body, binary as base64); with fingerprints, 18,000 filled it, and the snapshot now spills
    /// into rows of its own beyond one entity. The day's month rollup and product sales arrive too.
    /// </summary>
    [Fact]
    public async Task A_day_of_one_shard_at_its_documented_volume_persists_and_reads_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("cap"), ct);
        var day = new DateOnly(2026, 10, 5);
        var envelopes = OrdersOnShardZero(day, new string('d', 56), 200_000);
        Assert.All(envelopes, e => Assert.Equal(Identifiers.MaxLength, e.OrderId.Length));

        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));
        foreach (var batch in envelopes.Chunk(2_000))
        {
            await grain.IngestAndPersist(batch);
        }

        // Read back from storage by new activations.
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, day.Year, day.Month));
        await cluster.DeactivateAsync(grain);
        await cluster.DeactivateAsync(month);
        var minutes = await cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day)).GetMinutes(0, 1440);
        Assert.Equal(envelopes.Count, minutes.Values.Sum(bucket => bucket.Events.Values.Sum()));
        Assert.Equal(envelopes.Count / 4, minutes.Values.Sum(bucket => bucket.PlacedToPaid.Count));
        var rollup = (await month.GetDays(day.Day, day.Day + 1))[day.Day];
        Assert.Equal(envelopes.Count, rollup.Day.Events.Values.Sum());
        Assert.Equal(envelopes.Count / 4, rollup.Hours.Values.Sum(hour => hour.EnteredCount(OrderStatus.Delivered)));
        Assert.Equal(envelopes.Count / 4, (await month.GetProducts()).Listed.Values.Sum(product => product.Quantity));
    }

    /// <summary>
    /// A month's rollups are bounded by construction: 31 days whose three latency sketches have
    /// every one of their bins filled, each with more values than a day can hold, 24 hours of
    /// every status and 10 currencies. Beside them, README's envelope for products: 8,000 sold on
    /// one shard in the month, with 64-character SKUs (the longest allowed). Before, a month kept
    /// per-day products and hourly sketches of 0.1 % bins, and 1,300 orders a day per shard
    /// overflowed it.
    /// </summary>
    [Fact]
    public async Task A_month_filled_to_its_worst_case_persists_and_reads_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("month"), ct);
        var key = StatisticsKeys.Month(1, 0, 2026, 10);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(key);
        const long manyValues = (1L << 28) - 1; // per bin, per day: more than a day of one shard can hold
        for (var day = 1; day <= 31; day++)
        {
            var whole = new StatsBucket();
            foreach (var type in Expected.EventTypes)
            {
                whole.Events[type] = manyValues;
            }

            foreach (var status in Expected.Statuses)
            {
                whole.Entered[status] = manyValues;
            }

            foreach (var currency in new[] { "EUR", "USD", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK" })
            {
                whole.Revenue[currency] = 999_999_999_999.99m;
                whole.Refunds[currency] = 999_999_999_999.99m;
                whole.Payments[currency] = manyValues;
            }

            foreach (var sketch in new[] { whole.PlacedToPaid, whole.PaidToShipped, whole.ShippedToDelivered })
            {
                for (var bin = 0; bin < LatencyHistogram.MaxBins; bin++)
                {
                    sketch.Bins[bin] = manyValues;
                }

                sketch.Count = manyValues * LatencyHistogram.MaxBins;
            }

            var rollup = new DayRollup
            {
                Day = whole,
                Hours = Enumerable.Range(0, 24).ToDictionary(hour => hour, _ => new SeriesTotals
                {
                    Entered = Expected.Statuses.ToDictionary(status => status, _ => manyValues),
                    Revenue = 999_999_999_999.99m,
                    Refunds = 999_999_999_999.99m,
                }),
                Revision = 1,
            };
            var products = day == 1 ? LongestSkus("S", 8_000, manyValues, 999_999_999_999.99m) : [];
            await month.SetDay(day, rollup, 0, products);
        }

        await cluster.DeactivateAsync(month);
        var reread = cluster.Client.GetGrain<IMonthStatsGrain>(key);
        var days = await reread.GetDays(1, 32);
        Assert.Equal(31, days.Count);
        Assert.All(days.Values, rollup => Assert.Equal(LatencyHistogram.MaxBins, rollup.Day.ShippedToDelivered.Bins.Count));
        var sold = (await reread.GetProducts()).Listed;
        Assert.Equal(8_000, sold.Count);
        Assert.All(sold.Keys, sku => Assert.Equal(Identifiers.MaxLength, sku.Length));
    }

    /// <summary>
    /// A day of the alert feed at its cap, every alert as large as ids allow (64-character
    /// customer and order ids): it persists, and the 100 beyond the cap push out the earliest.
    /// The whole feed was one grain before, capped at 10,000 alerts: far more than its entity
    /// holds (about 3,000 alerts of 240 bytes, 1,500 of the largest).
    /// </summary>
    [Fact]
    public async Task A_day_of_the_alert_feed_at_its_cap_persists_and_keeps_the_latest()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("alerts"), ct);
        var day = new DateOnly(2026, 10, 9);
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var alerts = Enumerable.Range(0, AlertFeedGrain.MaxAlerts + 100).Select(i =>
        {
            var customer = string.Create(CultureInfo.InvariantCulture, $"{new string('c', 58)}{i:D6}");
            var order = string.Create(CultureInfo.InvariantCulture, $"{new string('o', 58)}{i:D6}");
            return new RiskAlert(
                $"{RiskRules.Velocity}/{customer}/{order}", RiskRules.Velocity, customer, order, start.AddSeconds(i * 50),
                $"2147483647 orders placed within 10675199.02:48:05.4775807 (limit 2147483647); burst began with order {order}.");
        }).ToList();
        var feed = cluster.Client.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(1, day));
        foreach (var batch in alerts.Chunk(400))
        {
            await feed.Apply("capacity", 0, batch, []); // the customer and its count only settle live copies, of which there are none here
        }

        await cluster.DeactivateAsync(feed);
        var kept = await cluster.Client.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(1, day)).Since(null, int.MaxValue);
        Assert.Equal(alerts.Skip(100).Select(a => a.Id), kept.Select(a => a.Id));
        Assert.Equal(alerts.Skip(100).Take(10), (await cluster.Reader.Alerts(ct)).Take(10));
    }

    /// <summary>
    /// Found by an audit: a push whose new SKUs took a month's products beyond their entity failed
    /// its products write; the day sent the same push again and again, never a later one, so the
    /// day's figures in the month stopped where they were. The month goes on taking the day's
    /// pushes, and sums the sales of SKUs new to it from then on unlisted.
    /// </summary>
    [Fact]
    public async Task A_month_whose_products_outgrow_their_entity_goes_on_taking_its_days_pushes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("monthfull"), ct);
        // Before any month: a new deployment's control, which would take months it finds for an earlier build's and rebuild them.
        var key = StatisticsKeys.Month(await cluster.Client.GetGrain<IProjectionControl>(0).Active(), 0, 2026, 11);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(key);
        static Dictionary<string, ProductTotals> Skus(string prefix, int count) => LongestSkus(prefix, count, 1, 10m);
        var listed = Skus("A", 8_000);
        await month.SetDay(1, CountingWhileFlushingTests.Rollup(events: 1, revision: 1), 0, listed);

        var beyond = Skus("B", 4_000);
        beyond[listed.Keys.First()] = new ProductTotals { Quantity = 2, Revenue = 20m };
        await month.SetDay(2, CountingWhileFlushingTests.Rollup(events: 2, revision: 1), 0, beyond);
        await month.SetDay(2, CountingWhileFlushingTests.Rollup(events: 3, revision: 2), 1, Skus("C", 1));

        Assert.Equal(2, await month.RevisionOf(2));
        await cluster.DeactivateAsync(month);
        var reread = cluster.Client.GetGrain<IMonthStatsGrain>(key);
        Assert.Equal(2, await reread.RevisionOf(2));
        Assert.Equal(3, (await reread.GetDays(2, 3))[2].EventCount);
        var sold = await reread.GetProducts();
        Assert.Equal(8_000, sold.Listed.Count);
        Assert.Equal(3, sold.Listed[listed.Keys.First()].Quantity);

        // The new SKUs of day 2 (4,000 and then 1), each 1 sold for 10: summed, and reported as such.
        Assert.Equal((4_001L, 40_010m), (sold.Unlisted!.Quantity, sold.Unlisted.Revenue));
        var report = await cluster.Client.GetGrain<IStatisticsGrain>(0).TopProducts(1, byQuantity: true);
        Assert.Equal(new UnlistedSales(4_001, 40_010m), report.Unlisted);
        Assert.Equal(new ProductSales(listed.Keys.First(), 3, 30m), Assert.Single(report.Products));
    }

    /// <summary>
    /// A day's live sales (counted, not pushed yet) of a SKU its month no longer lists were left out
    /// of the products until their push landed, and then counted among the unlisted: they are
    /// counted there at once, as the push will count them, and not twice once it has.
    /// </summary>
    [Fact]
    public async Task A_month_that_no_longer_lists_new_skus_shows_a_day_s_live_sales_of_them_as_its_push_will()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("monthlive"), ct);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 9));
        var listed = LongestSkus("A", 8_000, 1, 10m);
        await month.SetDay(1, CountingWhileFlushingTests.Rollup(events: 1, revision: 1), 0, listed);
        await month.SetDay(2, CountingWhileFlushingTests.Rollup(events: 2, revision: 1), 0, LongestSkus("B", 4_000, 1, 10m));
        var first = listed.Keys.First();
        Assert.Equal((4_000L, 40_000m), ((await month.GetProducts()).Unlisted!.Quantity, (await month.GetProducts()).Unlisted!.Revenue));

        var sales = new Dictionary<string, ProductTotals>
        {
            ["NEW-SKU"] = new() { Quantity = 2, Revenue = 5m },
            [first] = new() { Quantity = 1, Revenue = 10m },
        };
        await month.SetLiveDay(2, CountingWhileFlushingTests.Rollup(events: 3, revision: 2), [new MonthPush(1, 2, sales)]);
        AssertShows(await month.GetProducts());

        await month.SetDay(2, CountingWhileFlushingTests.Rollup(events: 3, revision: 2), 1, sales);
        AssertShows(await month.GetProducts());

        void AssertShows(MonthProducts products)
        {
            Assert.Equal(2, products.Listed[first].Quantity);
            Assert.DoesNotContain("NEW-SKU", products.Listed.Keys);
            Assert.Equal((4_002L, 40_005m), (products.Unlisted!.Quantity, products.Unlisted.Revenue));
        }
    }

    /// <summary>
    /// The API said nothing of the sales a month no longer lists, so a product unlisted in one month
    /// looked as if it had sold less: <c>unlisted</c> sums them, and is absent while nothing is unlisted.
    /// </summary>
    [Fact]
    public async Task GET_products_reports_the_sales_a_month_no_longer_lists()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var month = grains.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(await grains.GetGrain<IProjectionControl>(0).Active(), 3, 2026, 8));
        await month.SetDay(1, CountingWhileFlushingTests.Rollup(events: 1, revision: 1), 0, LongestSkus("A", 8_000, 1, 10m));
        Assert.Equal("[\"products\"]", await MembersAsync());

        await month.SetDay(2, CountingWhileFlushingTests.Rollup(events: 2, revision: 1), 0, LongestSkus("B", 4_000, 2, 7.5m));
        Assert.Equal("[\"products\",\"unlisted\"]", await MembersAsync());
        using var body = JsonDocument.Parse(await host.Http.GetStringAsync("/api/stats/products?top=1", ct));
        Assert.Equal((8_000L, 30_000m), (body.RootElement.GetProperty("unlisted").GetProperty("quantity").GetInt64(), body.RootElement.GetProperty("unlisted").GetProperty("revenue").GetDecimal()));

        async Task<string> MembersAsync()
        {
            using var document = JsonDocument.Parse(await host.Http.GetStringAsync("/api/stats/products?top=1", ct));
            return JsonSerializer.Serialize(document.RootElement.EnumerateObject().Select(member => member.Name));
        }
    }

    /// <summary>
    /// Review finding: once a month's products had unlisted new SKUs, the entity was within one
    /// push of its room, and its numbers growing (a varint takes more bytes as it grows) made the next
    /// write too large again, which nothing caught: the day's pushes stopped. The twentieth of the
    /// listed SKUs that sold least is unlisted, as often as needed.
    /// </summary>
    [Fact]
    public async Task A_month_at_its_products_limit_goes_on_taking_pushes_whose_numbers_grow()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("monthgrow"), ct);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 12));
        var pushed = 0;
        var day = 0;
        while (day < 31 && (await month.GetProducts()).Listed.Count == pushed)
        {
            day++;
            await month.SetDay(day, CountingWhileFlushingTests.Rollup(events: 1, revision: 1), 0,
                LongestSkus(string.Create(CultureInfo.InvariantCulture, $"D{day:D2}"), 500, 1, 1m));
            pushed += 500;
        }

        var listed = (await month.GetProducts()).Listed;
        Assert.True(listed.Count < pushed, $"All {pushed} SKUs are listed: the month never reached its limit.");

        // Every listed SKU sells 2^56 more: each quantity takes 7 bytes more.
        var grown = listed.Keys.ToDictionary(sku => sku, _ => new ProductTotals { Quantity = 1L << 56, Revenue = 1m });
        await month.SetDay(day, CountingWhileFlushingTests.Rollup(events: 2, revision: 2), 1, grown);

        Assert.Equal(2, await month.RevisionOf(day));
        await cluster.DeactivateAsync(month);
        Assert.Equal(2, await month.RevisionOf(day));
        var after = (await month.GetProducts()).Listed;
        Assert.InRange(after.Count, 1, listed.Count - 1);
        Assert.All(after.Values, totals => Assert.Equal((1L << 56) + 1, totals.Quantity));
    }

    /// <summary>
    /// README's envelopes for the projections that grow with orders rather than time: a customer
    /// of 60,000 orders (about 80 bytes each), and 100,000 open orders in one of the 64 stuck-order
    /// partitions (about 50 bytes each: 6.4 million open orders in all), with 20-character order
    /// ids; both beyond one entity (8,000 and 12,000 filled it), their snapshots spilled into rows.
    /// </summary>
    [Fact]
    public async Task A_big_customer_and_a_full_stuck_order_partition_persist_and_read_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("many"), ct);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var customerOrders = Enumerable.Range(0, 60_000).SelectMany(i =>
        {
            var orderId = string.Create(CultureInfo.InvariantCulture, $"big-customer-{i:D7}");
            return Lifecycle(orderId, "big-customer", start.AddMinutes(i * 37));
        }).ToList();
        var customer = cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, "big-customer"));
        foreach (var batch in customerOrders.Chunk(2_000))
        {
            await customer.IngestAndPersist(batch);
        }

        var open = new List<OrderEventEnvelope>();
        for (var i = 0; open.Count < 100_000; i++)
        {
            var orderId = string.Create(CultureInfo.InvariantCulture, $"open-orders-{i:D9}");
            if (OrderEventStreams.PartitionOf(orderId, StatisticsKeys.StuckOrderPartitions) == 0)
            {
                open.Add(Lifecycle(orderId, "someone", start.AddSeconds(i))[0]);
            }
        }

        var stuck = cluster.Client.GetGrain<IStuckOrdersGrain>(StatisticsKeys.StuckOrders(1, 0));
        foreach (var batch in open.Chunk(2_000))
        {
            await stuck.IngestAndPersist(batch);
        }

        await cluster.DeactivateAsync(customer);
        await cluster.DeactivateAsync(stuck);
        var report = await cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, "big-customer")).Get();
        Assert.Equal(60_000, report!.Orders);
        Assert.Equal(60_000 * 25.5m, report.Spend);
        Assert.Equal(100_000, (await stuck.Find(OrderStatus.Placed, DateTimeOffset.MaxValue, int.MaxValue)).Count);

        // A query asks each partition for as many as it shows: the oldest, not all 100,000.
        var oldest = await stuck.Find(OrderStatus.Placed, DateTimeOffset.MaxValue, 3);
        Assert.Equal([.. open.OrderBy(e => e.OccurredAt).Take(3).Select(e => e.OrderId)], oldest.Select(o => o.OrderId));
    }

    /// <summary>
    /// Review finding: the stuck-orders projection remembered a closed order from when it counted
    /// it, so a rebuild (which reads every order there is within minutes, through the same input as
    /// here) left each partition holding all of history's closed orders for 7 days: past the
    /// partition's envelope for a long history. Orders read back that the log recorded long ago are
    /// forgotten as the partition persists: what it stores holds at most those read back since its
    /// last snapshot (a journal row's, remembered from that row's write).
    /// </summary>
    [Fact]
    public async Task A_rebuild_of_orders_closed_long_ago_leaves_their_partition_remembering_almost_none_of_them()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("closed"), ct);
        var closedLongAgo = DateTimeOffset.UtcNow.AddDays(-30);
        var envelopes = new List<OrderEventEnvelope>();
        for (var i = 0; envelopes.Count < 5_000 * 4; i++)
        {
            var orderId = string.Create(CultureInfo.InvariantCulture, $"closed-long-ago-{i:D7}");
            if (OrderEventStreams.PartitionOf(orderId, StatisticsKeys.StuckOrderPartitions) == 0)
            {
                envelopes.AddRange(Lifecycle(orderId, "someone", closedLongAgo.AddSeconds(i)).Select(envelope => envelope with { RecordedAt = envelope.OccurredAt }));
            }
        }

        var stuck = cluster.Client.GetGrain<IStuckOrdersGrain>(StatisticsKeys.StuckOrders(1, 0));
        foreach (var batch in envelopes.Chunk(2_000))
        {
            await stuck.IngestAndPersist(batch);
        }

        await cluster.DeactivateAsync(stuck);
        var stored = new GrainState<StuckOrdersState>();
        await cluster.SiloServices.GetRequiredKeyedService<IGrainStorage>(StatisticsOptions.StorageName).ReadStateAsync("stuck", stuck.GetGrainId(), stored);

        Assert.InRange(stored.State!.Closed.Count, 0, 2_000 / 4);
        Assert.Empty(stored.State.Open);
        Assert.Empty(await stuck.Find(OrderStatus.Placed, DateTimeOffset.MaxValue, int.MaxValue));
    }

    /// <summary>
    /// Found by an audit: README's customer envelope (8,000 orders) held for orders that raise no
    /// alert; a customer placing them in bursts of 6 (an order-velocity alert per burst, 1,333
    /// alerts) outgrew its entity, since its alerts as sent to the feed are kept too. README then
    /// stated the envelope for such a customer: 6,600 orders, 1,100 alerts; with spill rows, 40,002
    /// orders and 6,667 alerts.
    /// </summary>
    [Fact]
    public async Task A_customer_of_40002_orders_in_bursts_that_each_raise_an_alert_persists_and_reads_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("bursts"), ct);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var orders = Enumerable.Range(0, 40_002).Select(i => Lifecycle(
            string.Create(CultureInfo.InvariantCulture, $"burst-customer-{i:D7}"), "burst-customer", start.AddMinutes(i / 6 * 30 + i % 6))[0]).ToList();
        var customer = cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, "burst-customer"));
        foreach (var batch in orders.Chunk(2_000))
        {
            await customer.IngestAndPersist(batch);
        }

        await cluster.DeactivateAsync(customer);
        var report = await cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, "burst-customer")).Get();
        Assert.Equal(40_002, report!.Orders);
        Assert.Contains(RiskRules.Velocity, report.Rules);
    }

    /// <summary>Beyond its envelope, a projection says so: an error naming the cause, not the storage client's.</summary>
    [Fact]
    public async Task A_projection_beyond_its_envelope_says_it_outgrew_its_entity()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("over"), ct);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var customer = cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, "huge-customer"));
        var orders = Enumerable.Range(0, 160_000).SelectMany(i =>
            Lifecycle(string.Create(CultureInfo.InvariantCulture, $"huge-customer-{i:D7}"), "huge-customer", start.AddMinutes(i * 37)).Take(1)).ToList();

        var counted = 0;
        var outgrown = await Assert.ThrowsAsync<ProjectionStateTooLargeException>(async () =>
        {
            foreach (var batch in orders.Chunk(20_000))
            {
                counted += batch.Length;
                await customer.IngestAndPersist(batch);
            }
        });

        Assert.Contains("CustomerStatsState outgrew its table entity", outgrown.Message, StringComparison.Ordinal);
        Assert.InRange(counted, 80_000, 160_000); // beyond the most its spill rows hold, not before
        Assert.Equal(counted, (await customer.Get())!.Orders); // still counted, in memory
    }

    /// <summary>
    /// The storage client retries a request whose answer it did not get in time; when the first
    /// attempt of a conditional state write had landed, the retry finds the row changed (another
    /// ETag) and fails, and so did every later write of the grain: its counts never reached
    /// storage again (a rebuild under load ended with month rollups short). Simulated here by
    /// changing the row's ETag behind the grain's back.
    /// </summary>
    [Fact]
    public async Task A_projection_whose_own_write_landed_unseen_keeps_persisting()
    {
        var ct = TestContext.Current.CancellationToken;
        var tables = ClusterTables.Unique("etag");
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct);
        var day = new DateOnly(2026, 10, 6);
        var envelopes = OrdersOnShardZero(day, "etag", 50);
        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));
        await grain.IngestAndPersist(envelopes[..100]);

        // The row as the grain wrote it, rewritten unchanged: only its ETag moves on.
        var table = new TableClient(azurite.ConnectionString, tables.Statistics);
        var rowKey = ProjectionStateKeys.RowKey(grain.GetGrainId(), "day");
        var row = await table.QueryAsync<TableEntity>(e => e.RowKey == rowKey, cancellationToken: ct).FirstAsync(ct);
        await table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace, ct);

        await grain.IngestAndPersist(envelopes[100..]);

        await cluster.DeactivateAsync(grain);
        var minutes = await cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day)).GetMinutes(0, 1440);
        Assert.Equal(envelopes.Count, minutes.Values.Sum(bucket => bucket.Events.Values.Sum()));
    }

    /// <summary>An order placed at <paramref name="placedAt"/>, paid a minute later, shipped and delivered: 4 events.</summary>
    /// <summary><paramref name="count"/> SKUs of the longest length allowed (64), beginning with <paramref name="prefix"/>, each sold as given.</summary>
    private static Dictionary<string, ProductTotals> LongestSkus(string prefix, int count, long quantity, decimal revenue) =>
        Enumerable.Range(0, count).ToDictionary(
            i => string.Create(CultureInfo.InvariantCulture, $"{prefix}{new string('S', 58 - prefix.Length)}{i:D6}"),
            _ => new ProductTotals { Quantity = quantity, Revenue = revenue });

    private static List<OrderEventEnvelope> Lifecycle(string orderId, string customerId, DateTimeOffset placedAt)
    {
        string[] types = [OrderPlaced.StoredName, OrderPaid.StoredName, OrderShipped.StoredName, OrderDelivered.StoredName];
        ImmutableArray<OrderLine> lines = [new OrderLine("LIFE-1", 1, 25.5m)];
        return [.. Enumerable.Range(1, 4).Select(version => new OrderEventEnvelope(
            orderId, version, Guid.NewGuid(), types[version - 1], placedAt.AddMinutes(version - 1), customerId, "EUR", 25.5m,
            version == 2 ? 25.5m : 0m, lines, (OrderStatus)(version - 1), (OrderStatus)version,
            version == 2 ? 60 : null, version == 3 ? 60 : null, version == 4 ? 60 : null))];
    }

    /// <summary>Orders of 4 events on shard 0, at random times of <paramref name="day"/>, with stage latencies spread over four orders of magnitude.</summary>
    private static List<OrderEventEnvelope> OrdersOnShardZero(DateOnly day, string prefix, int orders)
    {
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var random = new Random(3);
        string[] types = [OrderPlaced.StoredName, OrderPaid.StoredName, OrderShipped.StoredName, OrderDelivered.StoredName];
        var envelopes = new List<OrderEventEnvelope>();
        for (var i = 0; envelopes.Count < orders * 4; i++)
        {
            var orderId = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D7}");
            if (OrderEventStreams.ShardOf(orderId) != 0)
            {
                continue;
            }

            for (var version = 1; version <= 4; version++)
            {
                envelopes.Add(new OrderEventEnvelope(
                    orderId, version, Guid.NewGuid(), types[version - 1], start.AddSeconds(random.Next(86_400)),
                    prefix + "-customer", "EUR", 25.5m, version == 2 ? 25.5m : 0m,
                    version <= 2 ? [new OrderLine(string.Create(CultureInfo.InvariantCulture, $"CAP-{random.Next(200)}"), 1, 25.5m)] : ImmutableArray<OrderLine>.Empty,
                    (OrderStatus)(version - 1), (OrderStatus)version,
                    version == 2 ? random.Next(10, 100_000) + random.NextDouble() : null,
                    version == 3 ? random.Next(10, 100_000) + random.NextDouble() : null,
                    version == 4 ? random.Next(10, 100_000) + random.NextDouble() : null));
            }
        }

        return envelopes;
    }
}
