using System.Diagnostics;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Orders.Events;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Projections.Reconciliation;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// The reconciliation of the projections with the event log (<see cref="ProjectionReconcilerGrain"/>):
/// what the streams cannot guarantee, it closes. Each test runs its own cluster with one-second
/// change buckets that settle after five seconds: the test's own "dying writer" appends after its
/// announcement, and on a loaded CI machine that can take more than a second (a bucket reconciled
/// before its append lands would miss it, which is what Settle is for).
/// </summary>
public sealed class ReconciliationTests(AzuriteFixture azurite)
{
    internal static readonly Dictionary<string, string?> FastReconciliation = new()
    {
        ["EventStore:ChangeBucket"] = "00:00:01",
        ["Statistics:Reconciliation:Settle"] = "00:00:05",
        ["Statistics:Reconciliation:Interval"] = "00:00:00.200",
    };

    private static readonly string[] Skus = [.. Enumerable.Range(1, 5).Select(i => string.Create(CultureInfo.InvariantCulture, $"RC-SKU-{i}"))];

    /// <summary>The queries that compare a scenario over the three days after <paramref name="day0"/> (also those of the silo-death tests).</summary>
    internal static CheckPlan PlanFor(DateTimeOffset day0) => new(
        [(null, null), (day0.AddHours(7).AddMinutes(30), day0.AddHours(31).AddMinutes(5))],
        [(day0.AddHours(23), day0.AddHours(25), StatsInterval.Minute), (day0, day0.AddDays(3), StatsInterval.Day)],
        [10]);

    [Fact]
    public async Task An_order_whose_writer_died_before_publishing_and_that_is_never_loaded_again_is_counted()
    {
        var ct = TestContext.Current.CancellationToken;
        var day0 = TestClock.Day0;
        var generator = new ScenarioGenerator(new Random(5), Skus);
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("rc"), ct, FastReconciliation);

        // Orders through their grains, published as usual.
        var published = Enumerable.Range(0, 6).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"rc-pub-{i}"), "rc-customer", "EUR",
            ScenarioGenerator.Lifecycles[i % ScenarioGenerator.Lifecycles.Length], day0.AddHours(10 + i))).ToList();
        foreach (var plan in published)
        {
            await cluster.ExecuteAsync(plan);
        }

        // What a silo leaves behind when it dies right after confirming: the announcement and the
        // append, nothing published. Nothing ever loads these orders again.
        var orphans = new[]
        {
            generator.Order("rc-orphan-1", "rc-orphan-customer", "EUR", Lifecycle.Delivered, day0.AddHours(24).AddMinutes(5)),
            generator.Order("rc-orphan-2", "rc-customer", "USD", Lifecycle.FullRefund, day0.AddHours(30)),
        };
        foreach (var plan in orphans)
        {
            await cluster.Changes.RecordAsync(plan.OrderId, 1, cluster.Changes.PartitionOf(plan.OrderId, DateTimeOffset.UtcNow), ct);
            await LogWriter.AppendAsync(cluster.Store, plan, 1, null, publishedThrough: 0, ct);
        }

        // And an announcement whose append never landed: it must count nothing and still go away.
        await cluster.Changes.RecordAsync("rc-never-appended", 1, cluster.Changes.PartitionOf("rc-never-appended", DateTimeOffset.UtcNow), ct);

        var expected = await cluster.ExpectedFromLogAsync(ct);
        Assert.Contains(expected.Facts, f => f.OrderId == "rc-orphan-1");
        await StatsCheck.AssertConvergesAsync(cluster.Reader, expected, PlanFor(day0), TimeSpan.FromSeconds(60), ct, "statistics after reconciliation");

        // Nobody loaded the orphans: the reconciliation read them from the log.
        // Asked of the orphans by id (the published orders may have been collected by now, idle for
        // 2 minutes), beside one published order read again, so that the question is shown to find orders.
        await cluster.Order(published[0].OrderId).Get();
        var activeOrders = (await cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics(null, null, ct))
            .Where(s => s.GrainType.Contains(nameof(OrderGrain), StringComparison.Ordinal))
            .Select(s => s.GrainId.Key.ToString())
            .ToList();
        Assert.Contains(published[0].OrderId, activeOrders);
        Assert.Empty(activeOrders.Intersect(orphans.Select(p => p.OrderId)));

        // Every change dealt with is gone from the index, the never-appended one included.
        await Eventually.UntilAsync(async () => (await cluster.Changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 100, ct)).Count == 0,
            "the change index to be emptied", ct);
    }

    /// <summary>
    /// Found by an audit: the reconciliation read an order's whole tail after its change row in one
    /// storage call, under one deadline. An order with thousands of events there (refunds a cent at
    /// a time) outlasted it, the pass failed, and it failed again every time: no change row was
    /// reconciled any more, the other orders' neither. Here every response of the events table after
    /// the first of a query takes longer than the deadline. The tail is read a response's worth at a time.
    /// </summary>
    [Fact]
    public async Task An_order_with_a_long_tail_is_reconciled_and_so_are_the_others()
    {
        var ct = TestContext.Current.CancellationToken;
        var day0 = TestClock.Day0;
        var generator = new ScenarioGenerator(new Random(23), Skus);
        var tables = ClusterTables.Unique("rt");
        await using var cluster = await StartWithSlowReadsAsync(tables, DelayedReads.Continuations, ct);

        const string longOrder = "rt-long";
        List<OrderEvent> events =
        [
            new OrderPlaced(day0.AddHours(9), longOrder, "rt-customer", "EUR", [new OrderLine(Skus[0], 1, 1_000m)], 1_000m),
            new OrderPaid(day0.AddHours(9).AddMinutes(1), "pay-" + longOrder, 1_000m, "card"),
            .. Enumerable.Range(0, 2_500).Select(i => // three responses of the service
                new OrderRefunded(day0.AddHours(10).AddSeconds(i), string.Create(CultureInfo.InvariantCulture, $"ref-{i}"), 0.01m, "a cent back")),
        ];
        await cluster.Changes.RecordAsync(longOrder, 1, cluster.Changes.PartitionOf(longOrder, DateTimeOffset.UtcNow), ct);
        foreach (var (chunk, i) in events.Chunk(99).Select((chunk, i) => (chunk, i)))
        {
            await cluster.Store.AppendAsync(longOrder, i * 99, LogWriter.Rows(chunk), publishedThrough: 0, cancellationToken: ct);
        }

        var other = generator.Order("rt-other", "rt-customer", "EUR", Lifecycle.Delivered, day0.AddHours(12));
        await cluster.Changes.RecordAsync(other.OrderId, 1, cluster.Changes.PartitionOf(other.OrderId, DateTimeOffset.UtcNow), ct);
        await LogWriter.AppendAsync(cluster.Store, other, 1, null, publishedThrough: 0, ct);

        var expected = await cluster.ExpectedFromLogAsync(ct);
        await StatsCheck.AssertConvergesAsync(cluster.Reader, expected, PlanFor(day0), TimeSpan.FromSeconds(90), ct, "statistics after reconciliation");
    }

    /// <summary>
    /// Review finding: a regular pass failed whole when storage did not answer one stream's read-back,
    /// and the next pass took the same rows first, so one order whose reads always outlast their
    /// deadline (a long fold after a rollback made its snapshots unreadable, say) stopped the
    /// reconciliation of every other order. Here every read of one order's rows takes longer than
    /// the deadline: that order is parked, and the other is counted.
    /// </summary>
    [Fact]
    public async Task An_order_whose_reads_storage_never_answers_is_parked_and_the_others_are_reconciled()
    {
        var ct = TestContext.Current.CancellationToken;
        var day0 = TestClock.Day0;
        var generator = new ScenarioGenerator(new Random(29), Skus);
        var tables = ClusterTables.Unique("rh");
        await using var cluster = await StartWithSlowReadsAsync(tables, (table, delay) => DelayedReads.Naming(table, "rh-hung", delay), ct);

        var hung = generator.Order("rh-hung", "rh-hung-customer", "EUR", Lifecycle.Delivered, day0.AddHours(12));
        var other = generator.Order("rh-other", "rh-other-customer", "EUR", Lifecycle.Delivered, day0.AddHours(12));
        foreach (var plan in new[] { hung, other })
        {
            await cluster.Changes.RecordAsync(plan.OrderId, 1, cluster.Changes.PartitionOf(plan.OrderId, DateTimeOffset.UtcNow), ct);
            await LogWriter.AppendAsync(cluster.Store, plan, 1, null, publishedThrough: 0, ct);
        }

        await Eventually.UntilAsync(async () => (await cluster.Reader.Customer("rh-other-customer", ct))?.Orders == 1,
            "the other order to be reconciled", ct, TimeSpan.FromSeconds(60));
        await Eventually.UntilAsync(
            async () => (await cluster.Client.GetGrain<OrderFlow.Projections.IParkedRecordsGrain>(0).List()).Records
                .Any(r => r.Kind == OrderFlow.Projections.ParkedKind.Order && r.Key == hung.OrderId),
            "the order whose reads storage never answers to be parked", ct);
        Assert.Null(await cluster.Reader.Customer("rh-hung-customer", ct));
    }

    /// <summary>
    /// Second review of fa75ffb: one pass in which storage did not answer a stream's reads (a blip)
    /// parked the stream (an error logged, readiness Degraded until its retry a minute or more later).
    /// It is read again in a later pass, and parked only if storage fails it there too (the test
    /// above); here only its first read is slow, and it is counted without being parked.
    /// </summary>
    [Fact]
    public async Task An_order_whose_reads_storage_misses_once_is_counted_without_being_parked()
    {
        var ct = TestContext.Current.CancellationToken;
        var generator = new ScenarioGenerator(new Random(31), Skus);
        var tables = ClusterTables.Unique("ro");
        var parkedKeys = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var cluster = await StartWithSlowReadsAsync(tables, (table, delay) => DelayedReads.Naming(table, "ro-once", delay, times: 1), ct,
            silo => silo.AddIncomingGrainCallFilter(async call =>
            {
                if (call.InterfaceMethod?.Name == nameof(OrderFlow.Grains.Projections.Parking.IParking.Park)
                    && call.Request.GetArgument(0) is IReadOnlyList<OrderFlow.Grains.Projections.Parking.ParkRequest> requests)
                {
                    foreach (var request in requests)
                    {
                        parkedKeys.Enqueue(request.Key);
                    }
                }

                await call.Invoke();
            }));

        var once = generator.Order("ro-once", "ro-once-customer", "EUR", Lifecycle.Delivered, TestClock.Day0.AddHours(12));
        await cluster.Changes.RecordAsync(once.OrderId, 1, cluster.Changes.PartitionOf(once.OrderId, DateTimeOffset.UtcNow), ct);
        await LogWriter.AppendAsync(cluster.Store, once, 1, null, publishedThrough: 0, ct);

        await Eventually.UntilAsync(async () => (await cluster.Reader.Customer("ro-once-customer", ct))?.Orders == 1,
            "the order to be reconciled", ct, TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(once.OrderId, parkedKeys);
    }

    /// <summary>
    /// Review finding: the catch-up after a silo died failed whole, each of its three attempts,
    /// when storage did not answer one order's reads in time; such an order (one the regular passes
    /// park, and announce again for each retry) is nearly always in the change index, so the catch-up
    /// fed nothing else and the statistics stayed short until the regular passes settled. It is
    /// left to them now, and the others are caught up.
    /// </summary>
    [Fact]
    public async Task A_catch_up_leaves_an_order_whose_reads_storage_never_answers_and_catches_up_the_others()
    {
        var ct = TestContext.Current.CancellationToken;
        var generator = new ScenarioGenerator(new Random(37), Skus);
        var tables = ClusterTables.Unique("cu");
        await using var cluster = await StartWithSlowReadsAsync(tables, (table, delay) => DelayedReads.Naming(table, "cu-hung", delay), ct, reconcile: false);
        var hung = generator.Order("cu-hung", "cu-hung-customer", "EUR", Lifecycle.Delivered, TestClock.Day0.AddHours(12));
        var other = generator.Order("cu-other", "cu-other-customer", "EUR", Lifecycle.Delivered, TestClock.Day0.AddHours(12));
        foreach (var plan in new[] { hung, other })
        {
            await cluster.Changes.RecordAsync(plan.OrderId, 1, cluster.Changes.PartitionOf(plan.OrderId, DateTimeOffset.UtcNow), ct);
            await LogWriter.AppendAsync(cluster.Store, plan, 1, null, publishedThrough: 0, ct);
        }

        var reconciler = cluster.Client.GetGrain<IProjectionReconcilerGrain>(0);
        Assert.True(await reconciler.CatchUp([SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), 1)], 1));
        await Eventually.UntilAsync(async () => (await reconciler.CatchUps()).Passes > 0, "the catch-up pass to end", ct, TimeSpan.FromSeconds(60));

        Assert.Equal(1, (await reconciler.CatchUps()).Last!.Failed);
        Assert.Equal(1, (await cluster.Reader.Customer("cu-other-customer", ct))?.Orders);
        Assert.Null(await cluster.Reader.Customer("cu-hung-customer", ct));
    }

    /// <summary>
    /// A cluster reconciling fast whose storage calls have 2 s to answer, where the reads of the
    /// events table that <paramref name="delayedReads"/> picks take 5 s.
    /// </summary>
    private Task<StatsCluster> StartWithSlowReadsAsync(
        ClusterTables tables, Func<string, TimeSpan, DelayedReads> delayedReads, CancellationToken ct, Action<ISiloBuilder>? alsoOnTheSilo = null, bool reconcile = true) =>
        StatsCluster.StartAsync(azurite.ConnectionString, tables, ct,
            new Dictionary<string, string?>(FastReconciliation)
            {
                ["EventStore:OperationTimeout"] = "00:00:02",
                ["Statistics:Reconciliation:Enabled"] = reconcile ? "true" : "false",
            },
            silo =>
            {
                silo.Services.AddSingleton(new Silo.StorageClientPolicy(delayedReads(tables.Events, TimeSpan.FromSeconds(5))));
                alsoOnTheSilo?.Invoke(silo);
            });

    /// <summary>Every GET that <paramref name="delays"/> picks waits <paramref name="delay"/> before it is sent.</summary>
    private sealed class DelayedReads(Func<HttpMessage, bool> delays, TimeSpan delay) : HttpPipelinePolicy
    {
        /// <summary>The GETs of <paramref name="table"/> that continue a query (a continuation token).</summary>
        public static DelayedReads Continuations(string table, TimeSpan delay) =>
            new(message => message.Request.Uri.Path.Contains("/" + table, StringComparison.Ordinal)
                && message.Request.Uri.Query.Contains("NextRowKey", StringComparison.Ordinal), delay);

        /// <summary>The GETs of rows of <paramref name="table"/> (not of a table whose name it begins) whose address names <paramref name="marker"/>, the first <paramref name="times"/> (all when null).</summary>
        public static DelayedReads Naming(string table, string marker, TimeSpan delay, int? times = null)
        {
            var left = times ?? int.MaxValue;
            return new(message => message.Request.Uri.Path.Contains("/" + table + "(", StringComparison.Ordinal)
                && message.Request.Uri.ToUri().ToString().Contains(marker, StringComparison.Ordinal)
                && Interlocked.Decrement(ref left) >= 0, delay);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (Delays(message))
            {
                Thread.Sleep(delay);
            }

            ProcessNext(message, pipeline);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (Delays(message))
            {
                await Task.Delay(delay, message.CancellationToken);
            }

            await ProcessNextAsync(message, pipeline);
        }

        private bool Delays(HttpMessage message) => message.Request.Method == RequestMethod.Get && delays(message);
    }

    [Fact]
    public async Task Counts_a_killed_silo_had_not_yet_persisted_are_restored_from_the_log()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper;
        var day0 = TestClock.Day0;
        var random = new Random(17);
        var generator = new ScenarioGenerator(random, Skus);
        var tables = ClusterTables.Unique("rk");
        var plans = Enumerable.Range(0, 30).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"rk-{i:D2}"),
            string.Create(CultureInfo.InvariantCulture, $"rk-customer-{random.Next(5)}"),
            i % 3 == 0 ? "USD" : "EUR",
            generator.AnyLifecycle(),
            generator.RandomTime(day0, TimeSpan.FromHours(50)))).ToList();

        // Day grains hold their counts for an hour before persisting them; no reconciliation runs.
        Expected expected;
        var first = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct, new Dictionary<string, string?>(FastReconciliation)
        {
            ["Statistics:FlushInterval"] = StatsCluster.NoFlushTick,
            ["Statistics:Reconciliation:Enabled"] = "false",
        });
        await using (first)
        {
            await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (plan, _) => await first.ExecuteAsync(plan));
            expected = await first.ExpectedFromLogAsync(ct);

            await WaitUntilDeliveredAsync(first, expected, ct);

            await first.KillSiloAsync();
        }

        // A new silo, still without reconciliation: the killed silo's day counts are gone.
        await using var second = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct, new Dictionary<string, string?>(FastReconciliation)
        {
            ["Statistics:Reconciliation:Enabled"] = "false",
        });
        var lost = await StatsCheck.DiffAsync(second.Reader, expected, PlanFor(day0), ct);
        output?.WriteLine($"after the kill: {lost.Count} differences, e.g. {lost.FirstOrDefault()}");
        Assert.True(lost.Count > 0, "Killing the silo lost nothing, so this test shows nothing: the day grains persisted before the kill.");

        // Reconciling every change, as its bucket settles, restores every figure.
        var reconciler = second.Client.GetGrain<IProjectionReconcilerGrain>(0);
        var changes = 0;
        var watch = Stopwatch.StartNew();
        while ((await second.Changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 1, ct)).Count > 0)
        {
            var pass = await reconciler.Reconcile();
            Assert.Equal(0, pass.Failed);
            changes += pass.Changes;
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(40), $"The change index still had rows 40 s after the restart ({changes} reconciled).");
            await Task.Delay(200, ct);
        }

        output?.WriteLine($"{changes} changes reconciled in {watch.Elapsed.TotalSeconds:0.0} s");
        await StatsCheck.AssertConvergesAsync(second.Reader, expected, PlanFor(day0), TimeSpan.Zero, ct, "statistics after reconciliation");
    }

    [Fact]
    public async Task A_reconciliation_reports_as_repaired_only_the_events_no_projection_had_counted()
    {
        var ct = TestContext.Current.CancellationToken;
        var generator = new ScenarioGenerator(new Random(23), Skus);
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("rr"), ct, new Dictionary<string, string?>(FastReconciliation)
        {
            ["Statistics:Reconciliation:Enabled"] = "false",
        });

        // An order stored and announced but never published: every one of its events is a repair.
        var orphan = generator.Order("rr-orphan", "rr-customer", "EUR", Lifecycle.Delivered, TestClock.Day0.AddHours(20));
        long events = LogWriter.Events(orphan).Count;
        await cluster.Changes.RecordAsync(orphan.OrderId, 1, cluster.Changes.PartitionOf(orphan.OrderId, DateTimeOffset.UtcNow), ct);
        await LogWriter.AppendAsync(cluster.Store, orphan, 1, null, publishedThrough: 0, ct);
        Assert.Equal((events, events), await ReconcileEverythingAsync(cluster, ct));

        // Announced again, as after a silo's death: fed again, and nothing left to repair, also by projection
        // activations collected meanwhile (idle, memory pressure), which read back what the first pass persisted.
        await cluster.CollectAllAsync();
        await cluster.Changes.RecordAsync(orphan.OrderId, 1, cluster.Changes.PartitionOf(orphan.OrderId, DateTimeOffset.UtcNow), ct);
        Assert.Equal((events, 0L), await ReconcileEverythingAsync(cluster, ct));
    }

    /// <summary>
    /// Review finding: a pass removed its change rows before it unparked what it had recovered, so an
    /// unpark that failed (the parked list unreachable for a moment, the reconciler's silo gone) left
    /// the record listed for good: nothing announced the order again. The rows now go last, and the
    /// next pass feeds them again (counting nothing twice) and unparks.
    /// </summary>
    [Fact]
    public async Task A_recovered_stream_whose_unpark_failed_is_unparked_by_the_next_pass()
    {
        var ct = TestContext.Current.CancellationToken;
        var generator = new ScenarioGenerator(new Random(29), Skus);
        var unparks = new PushFaults(nameof(Grains.Projections.Parking.IParking.Resolve));
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("ru"), ct,
            new Dictionary<string, string?>(FastReconciliation) { ["Statistics:Reconciliation:Enabled"] = "false" },
            configureSilo: silo => silo.AddIncomingGrainCallFilter(unparks));
        var plan = generator.Order("ru-order", "ru-customer", "EUR", Lifecycle.Delivered, TestClock.Day0.AddHours(9));
        await cluster.ExecuteAsync(plan);

        // Parked earlier (a failure since mended), and announced again for its retry.
        await cluster.Client.GetGrain<Grains.Projections.Parking.IParking>(0).Park(
            [new Grains.Projections.Parking.ParkRequest(OrderFlow.Projections.ParkedKind.Order, plan.OrderId, $"order '{plan.OrderId}'", "a test", TimeSpan.Zero)]);
        await cluster.Changes.RecordAsync(plan.OrderId, 1, cluster.Changes.PartitionOf(plan.OrderId, DateTimeOffset.UtcNow), ct);
        await WaitUntilEveryChangeIsDueAsync(cluster, ct);

        var reconciler = cluster.Client.GetGrain<IProjectionReconcilerGrain>(0);
        unparks.Next(PushFault.LostOnTheWay);
        await Assert.ThrowsAnyAsync<Exception>(() => reconciler.Reconcile());
        Assert.Equal(1, unparks.Injected);

        var pass = await reconciler.Reconcile();
        Assert.Equal(1, pass.Unparked);
        Assert.Equal(0, (await cluster.Client.GetGrain<OrderFlow.Projections.IParkedRecordsGrain>(0).List()).Count);
    }

    /// <summary>
    /// Regular passes, run by the test, until the change index is empty: the events they fed and repaired; none may fail.
    /// <paramref name="passes"/>, when given, receives every pass that dealt with changes (for a failure's message).
    /// </summary>
    internal static async Task<(long Fed, long Repaired)> ReconcileEverythingAsync(StatsCluster cluster, CancellationToken ct, List<ReconciliationPass>? passes = null)
    {
        var reconciler = cluster.Client.GetGrain<IProjectionReconcilerGrain>(0);
        long fed = 0, repaired = 0;
        await Eventually.UntilAsync(async () =>
        {
            var pass = await reconciler.Reconcile();
            Assert.Equal(0, pass.Failed);
            if (pass.Changes > 0)
            {
                passes?.Add(pass);
            }

            fed += pass.Events;
            repaired += pass.Repaired;
            return (await cluster.Changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 1, ct)).Count == 0;
        }, "the change index to be reconciled", ct, TimeSpan.FromSeconds(60));
        return (fed, repaired);
    }

    /// <summary>
    /// Until every recorded change is due (its bucket settled): the next pass then takes them all, and
    /// reads an order whose commands fell in two buckets once, not once in each pass that took one of them.
    /// </summary>
    internal static Task WaitUntilEveryChangeIsDueAsync(StatsCluster cluster, CancellationToken ct)
    {
        var settle = TimeSpan.Parse(FastReconciliation["Statistics:Reconciliation:Settle"]!, CultureInfo.InvariantCulture);
        return Eventually.UntilAsync(
            async () => (await cluster.Changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow - settle, 1000, ct)).Count
                == (await cluster.Changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 1000, ct)).Count,
            "every change to be due", ct);
    }

    /// <summary>Once every customer has counted every order, the stream has delivered everything (into memory only, when projections hold their counts).</summary>
    internal static async Task WaitUntilDeliveredAsync(StatsCluster cluster, Expected expected, CancellationToken ct)
    {
        foreach (var customer in expected.Customers)
        {
            var orders = expected.Facts.Where(f => f.CustomerId == customer).Select(f => f.OrderId).Distinct().Count();
            await Eventually.UntilAsync(async () => (await cluster.Reader.Customer(customer, ct))?.Orders == orders, $"customer {customer} to count {orders} orders", ct);
        }
    }
}
