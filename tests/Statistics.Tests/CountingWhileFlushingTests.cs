using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Live batches and queries run while a projection's flush awaits storage (the remarks of
/// <c>WriteBehindProjectionGrain</c>): a count made meanwhile is neither lost nor counted twice,
/// whatever the flush meets, and a month shows the newest copy of each day whatever order a day's
/// live copies and pushes reach it in. Storage is held open at the chosen point by
/// <see cref="HeldGrainStorage"/>; the flush interval is an hour, so only the test flushes.
/// </summary>
public sealed class CountingWhileFlushingTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The flush's write lands but is answered as an ETag conflict; the flush reads the row again,
    /// which replaces the state object, and writes its own state over it. A batch counted while the
    /// read is under way counts into the object the flush then discards: it must be counted again
    /// into the state that is kept, and persisted.
    /// </summary>
    [Fact]
    public async Task A_count_made_while_a_flush_rereads_after_an_etag_conflict_is_kept_and_persisted_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("flushreread"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var (day, first, second) = await DayWithOneOrderAsync(cluster, "flushreread");

        var rereading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conflicts = 0;
        storage.AfterWrite = () => Task.FromResult(Interlocked.Increment(ref conflicts) == 1);
        storage.AfterRead = async () =>
        {
            rereading.TrySetResult();
            await release.Task;
        };
        storage.Target = day.GetGrainId();

        var flush = day.Flush();
        await rereading.Task.WaitAsync(Patience, ct);
        await day.IngestBatch([second]);
        release.SetResult();
        await flush.WaitAsync(Patience, ct);
        storage.Target = null;

        Assert.Equal(2, Placed(await day.GetMinutes(0, 1440)));
        await day.Flush();
        await day.IngestBatch([first, second]); // repeats: counted once
        await cluster.DeactivateAsync(day);
        Assert.Equal(2, Placed(await day.GetMinutes(0, 1440)));
    }

    /// <summary>
    /// A batch counted while the flush's write is under way is not in that write: the flush must
    /// leave it to the next, which persists it (the day's push flag is cleared before the write, not after).
    /// </summary>
    [Fact]
    public async Task A_count_made_while_a_flush_writes_is_persisted_by_the_next_flush()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("flushwrite"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var (day, _, second) = await DayWithOneOrderAsync(cluster, "flushwrite");

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writing = storage.HoldWrites(release.Task);
        storage.Target = day.GetGrainId();

        var flush = day.Flush();
        await writing.WaitAsync(Patience, ct);
        await day.IngestBatch([second]).WaitAsync(Patience, ct);

        // Queries are answered from memory while the write waits: the summary over the whole day (the month's live copy) and the day itself.
        Assert.Equal(2, Placed(await day.GetMinutes(0, 1440).WaitAsync(Patience, ct)));
        Assert.Equal(2, (await cluster.Reader.Summary(null, null, ct).WaitAsync(Patience, ct)).Events[nameof(OrderPlaced)]);
        release.SetResult();
        await flush.WaitAsync(Patience, ct);
        storage.Target = null;

        await day.Flush();
        await cluster.DeactivateAsync(day);
        Assert.Equal(2, Placed(await day.GetMinutes(0, 1440)));
    }

    /// <summary>
    /// A month is written at every push of its day (two writes, each awaiting storage). Its queries
    /// and the day's live copies are answered from memory meanwhile: the summary must not wait for
    /// storage (here held open until the test has its answers).
    /// </summary>
    [Fact]
    public async Task A_month_takes_live_copies_and_answers_the_summary_while_a_push_is_being_written()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("monthwrite"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var (day, _, second) = await DayWithOneOrderAsync(cluster, "monthwrite");
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var date = DateOnly.FromDateTime(second.OccurredAt.UtcDateTime);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, 4, date.Year, date.Month));

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writing = storage.HoldWrites(release.Task);
        storage.Target = month.GetGrainId();

        var flush = day.Flush(); // the day's push: the month's write waits
        await writing.WaitAsync(Patience, ct);
        await day.IngestBatch([second]).WaitAsync(Patience, ct);
        Assert.Equal(2, (await cluster.Reader.Summary(null, null, ct).WaitAsync(Patience, ct)).Events[nameof(OrderPlaced)]);

        release.SetResult();
        await flush.WaitAsync(Patience, ct);
        storage.Target = null;
        await day.Flush();
        await cluster.DeactivateAsync(month);
        Assert.Equal(2, (await cluster.Reader.Summary(null, null, ct)).Events[nameof(OrderPlaced)]);
    }

    /// <summary>
    /// Every query asks the catalog for the months first; a month's registration writes the catalog.
    /// The summary is answered while that write waits on storage (here held open).
    /// </summary>
    [Fact]
    public async Task The_summary_is_answered_while_the_catalog_writes_a_new_month()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("catalogwrite"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writing = storage.HoldWrites(release.Task);
        storage.Target = cluster.Client.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)).GetGrainId();

        var first = LiveBatchTests.Placed(StatsCluster.IdOnShard("catalogwrite-a", 4), "c");
        var day = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(generation, 4, DateOnly.FromDateTime(first.OccurredAt.UtcDateTime)));
        var batch = day.IngestBatch([first]); // its live copy registers the month: the catalog's write waits
        await writing.WaitAsync(Patience, ct);
        Assert.Equal(1, (await cluster.Reader.Summary(null, null, ct).WaitAsync(Patience, ct)).Events[nameof(OrderPlaced)]);

        release.SetResult();
        await batch.WaitAsync(Patience, ct);
    }

    /// <summary>
    /// A day sends its month live copies after batches and pushes at flushes, and the two race:
    /// a live copy may arrive before an older push, or after a newer one. The month shows the copy
    /// with the most events either way, never one older than it has already shown.
    /// </summary>
    [Fact]
    public async Task A_month_shows_the_newest_copy_of_a_day_whichever_of_its_live_copy_and_push_arrives_last()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("monthrace"), ct, LiveBatchTests.Settings);
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, 0, 2026, 10));

        // Day 14: the live copy (2 events) arrives before the push of the flush that began before its batch (1 event).
        await month.SetLiveDay(14, Rollup(events: 2, revision: 0), []);
        await month.SetDay(14, Rollup(events: 1, revision: 1), 0, []);

        // Day 15: a late live copy (2 events) arrives after a push that holds more (3 events).
        await month.SetDay(15, Rollup(events: 3, revision: 1), 0, []);
        await month.SetLiveDay(15, Rollup(events: 2, revision: 0), []);

        var days = await month.GetDays(1, 32);
        Assert.Equal(2, days[14].EventCount);
        Assert.Equal(3, days[15].EventCount);

        // Once a push holds as many events as the live copy, the push is what is shown (and persisted).
        await month.SetDay(14, Rollup(events: 2, revision: 2), 1, []);
        Assert.Equal(2, (await month.GetDays(14, 15))[14].Revision);
    }

    /// <summary>
    /// A customer's flush sends its alerts to the feed; a batch and a query while it writes where
    /// they may be raise another alert, on another day. The flush must record as in the feed only
    /// what it sent, so that the next flush sends the new alert (once), and the first stays once.
    /// </summary>
    [Fact]
    public async Task An_alert_raised_while_a_customer_flush_sends_its_alerts_reaches_the_feed_with_the_next_flush()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("flushalerts"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        const string customerId = "flush-alerts";
        var customer = cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(generation, customerId));
        var firstDay = DateOnly.FromDateTime(LiveBatchTests.At.UtcDateTime);
        var secondDay = firstDay.AddDays(1);

        // More orders within the velocity window than the limit: one alert per burst, on the day of the burst.
        OrderEventEnvelope[] Burst(string name, DateOnly day) =>
            [.. Enumerable.Range(0, 6).Select(i => LiveBatchTests.Placed($"{name}-{i}", customerId, LiveBatchTests.At.AddDays(day.DayNumber - firstDay.DayNumber)))];
        await customer.IngestBatch(Burst("flush-alerts-a", firstDay));

        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writes = 0;
        storage.AfterWrite = async () =>
        {
            if (Interlocked.Increment(ref writes) == 1)
            {
                writing.TrySetResult();
                await release.Task;
            }

            return false;
        };
        storage.Target = customer.GetGrainId();

        // The flush records the first alert's day, then (held here) sends the alert to the feed.
        var flush = customer.Flush();
        await writing.Task.WaitAsync(Patience, ct);
        await customer.IngestBatch(Burst("flush-alerts-b", secondDay)).WaitAsync(Patience, ct);
        Assert.Equal(12, (await customer.Get().WaitAsync(Patience, ct))!.Orders);
        release.SetResult();
        await flush.WaitAsync(Patience, ct);
        storage.Target = null;

        await customer.Flush();
        Assert.Equal([$"{RiskRules.Velocity}/{customerId}/flush-alerts-a-0"], await FeedAsync(cluster, generation, firstDay, customerId));
        Assert.Equal([$"{RiskRules.Velocity}/{customerId}/flush-alerts-b-0"], await FeedAsync(cluster, generation, secondDay, customerId));

        // Persisted as sent: another activation finds nothing to send, and counts nothing twice.
        await cluster.DeactivateAsync(customer);
        Assert.Equal(12, (await customer.Get())!.Orders);
        await customer.Flush();
        Assert.Single(await FeedAsync(cluster, generation, secondDay, customerId));
    }

    /// <summary>
    /// A customer's write is answered as an ETag conflict after a batch counted a burst into the
    /// state it writes; a query during the re-read evaluates the rules over the row read, which
    /// the write then discards. The report after the flush must still show the burst's alert.
    /// </summary>
    [Fact]
    public async Task A_query_during_a_customer_flush_reread_does_not_leave_its_alerts_stale()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("flushrerules"), ct, LiveBatchTests.Settings,
            silo => storage.Register(silo, StatisticsOptions.StorageName));
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        const string customerId = "flush-reread-rules";
        var customer = cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(generation, customerId));
        await customer.IngestBatch([LiveBatchTests.Placed("flush-reread-rules-first", customerId, LiveBatchTests.At.AddDays(-1))]);

        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rereading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writes = 0;
        storage.AfterWrite = async () =>
        {
            if (Interlocked.Increment(ref writes) != 1)
            {
                return false;
            }

            writing.TrySetResult();
            await release.Task;
            return true;
        };
        storage.AfterRead = async () =>
        {
            rereading.TrySetResult();
            await releaseRead.Task;
        };
        storage.Target = customer.GetGrainId();

        var flush = customer.Flush();
        await writing.Task.WaitAsync(Patience, ct);
        await customer.IngestBatch([.. Enumerable.Range(0, 6).Select(i => LiveBatchTests.Placed($"flush-reread-rules-{i}", customerId))]).WaitAsync(Patience, ct);
        release.SetResult();
        await rereading.Task.WaitAsync(Patience, ct);
        Assert.Equal(1, (await customer.Get().WaitAsync(Patience, ct))!.Orders); // evaluated over the row read, which the write discards
        releaseRead.SetResult();
        await flush.WaitAsync(Patience, ct);
        storage.Target = null;

        var report = (await customer.Get())!;
        Assert.Equal(7, report.Orders);
        Assert.Equal([RiskRules.Velocity], report.Rules);
    }

    private static async Task<string[]> FeedAsync(StatsCluster cluster, int generation, DateOnly day, string customerId) =>
        [.. (await cluster.Client.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(generation, day)).Since(null, 100))
            .Where(alert => alert.CustomerId == customerId).Select(alert => alert.Id).Order(StringComparer.Ordinal)];

    private static async Task<(IDayStatsGrain Day, OrderEventEnvelope First, OrderEventEnvelope Second)> DayWithOneOrderAsync(StatsCluster cluster, string prefix)
    {
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var shard = 4;
        var first = LiveBatchTests.Placed(StatsCluster.IdOnShard(prefix + "-a", shard), "c");
        var second = LiveBatchTests.Placed(StatsCluster.IdOnShard(prefix + "-b", shard), "c");
        var day = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(generation, shard, DateOnly.FromDateTime(first.OccurredAt.UtcDateTime)));
        await day.IngestBatch([first]);
        return (day, first, second);
    }

    private static long Placed(Dictionary<int, StatsBucket> minutes) =>
        minutes.Values.Sum(bucket => bucket.Events.GetValueOrDefault(nameof(OrderPlaced)));

    internal static DayRollup Rollup(int events, long revision)
    {
        var bucket = new StatsBucket();
        for (var i = 0; i < events; i++)
        {
            bucket.Add(LiveBatchTests.Placed("month-race-" + i, "c"));
        }

        return DayRollup.Of(new Dictionary<int, StatsBucket> { [600] = bucket }, revision);
    }
}
