using Microsoft.Extensions.DependencyInjection;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Rebuild;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics;
using OrderFlow.Orders;
using OrderFlow.Projections;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Streams;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Projections under faults injected into real grain calls, in a real cluster on Azurite: a day
/// sends its month product sales as increments (the month keeps one total per product), so every
/// increment must land exactly once however a push fails; a rebuild whose grain stopped; an alert
/// that moved to another day's feed while a feed failed.
/// </summary>
public sealed class InjectedFaultTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData(PushFault.LostOnTheWay)]
    [InlineData(PushFault.AnswerLost)]
    public async Task A_failed_push_is_sent_again_and_counted_once(PushFault fault)
    {
        var ct = TestContext.Current.CancellationToken;
        var faults = new PushFaults();
        await using var cluster = await StartAsync(faults, "push", ct);
        var day = new DateOnly(2026, 9, 7);
        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));

        faults.Next(fault);
        await Assert.ThrowsAsync<TimeoutException>(() => grain.IngestAndPersist(PaidOrders(day, "push-a", 3)));
        await grain.IngestAndPersist(PaidOrders(day, "push-b", 2));

        await AssertMonthHoldsAsync(cluster, day, orders: 5);
        Assert.Equal(0, faults.Pending);

        // A copy of the first push arriving late (it was only delayed) is a repeat: nothing changes.
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, day.Year, day.Month));
        var late = new Dictionary<string, ProductTotals> { ["PUSH-SKU"] = new() { Quantity = 6, Revenue = 60m } };
        await month.SetDay(day.Day, new DayRollup { Revision = 1 }, 0, late);
        await AssertMonthHoldsAsync(cluster, day, orders: 5);
    }

    /// <summary>A day persisted with a push that never landed, and deactivated: its next activation pushes.</summary>
    [Fact]
    public async Task A_day_deactivated_with_a_push_outstanding_completes_it_when_next_activated()
    {
        var ct = TestContext.Current.CancellationToken;
        var faults = new PushFaults();

        // No timer flush in between: it would take the second fault, and the deactivation's flush would then land.
        await using var cluster = await StartAsync(faults, "pushdeact", ct, new Dictionary<string, string?> { ["Statistics:FlushInterval"] = StatsCluster.NoFlushTick });
        var day = new DateOnly(2026, 9, 8);
        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));

        faults.Next(PushFault.LostOnTheWay, times: 2); // the flush and the deactivation's last flush
        await Assert.ThrowsAsync<TimeoutException>(() => grain.IngestAndPersist(PaidOrders(day, "deact", 4)));
        await cluster.DeactivateAsync(grain);
        Assert.Equal(0, faults.Pending);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, day.Year, day.Month));
        Assert.Empty((await month.GetProducts()).Listed);

        await grain.GetMinutes(0, 1); // activates it: it finds the push outstanding
        await grain.Flush();

        await AssertMonthHoldsAsync(cluster, day, orders: 4);
    }

    [Fact]
    public async Task A_month_ignores_a_repeated_push_and_refuses_one_out_of_step()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StartAsync(new PushFaults(), "pushstep", ct);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 9));
        var sold = new Dictionary<string, ProductTotals> { ["SKU-1"] = new() { Quantity = 2, Revenue = 20m } };

        await month.SetDay(3, new DayRollup { Revision = 1 }, 0, sold);
        await month.SetDay(3, new DayRollup { Revision = 1 }, 0, sold);
        Assert.Equal(2, (await month.GetProducts()).Listed["SKU-1"].Quantity);

        var outOfStep = await Assert.ThrowsAsync<MonthOutOfStepException>(() => month.SetDay(3, new DayRollup { Revision = 3 }, 2, sold));
        Assert.Contains("holds revision 1 of day 3", outOfStep.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await month.GetProducts()).Listed["SKU-1"].Quantity);
        Assert.Equal(1, await month.RevisionOf(3));
    }

    /// <summary>
    /// A month whose write failed must not answer as if the push had landed: it held the increment
    /// in memory and said so, and the day then never sent it again. (The write failed here by
    /// holding more products than the entity takes, until such products were summed unlisted.)
    /// </summary>
    [Fact]
    public async Task A_month_whose_write_failed_does_not_report_the_push_as_landed()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = new HeldGrainStorage();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("pushfail"), ct,
            configureSilo: silo => storage.Register(silo, StatisticsOptions.StorageName));
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 9));
        storage.Target = month.GetGrainId();
        var sold = new Dictionary<string, ProductTotals> { ["SKU-1"] = new() { Quantity = 3, Revenue = 30m } };
        storage.FailNextWrites(2); // the rollup's and the products'

        await Assert.ThrowsAnyAsync<Exception>(() => month.SetDay(4, new DayRollup { Revision = 1 }, 0, sold));

        Assert.Equal(0, await month.RevisionOf(4));
        await month.SetDay(4, new DayRollup { Revision = 1 }, 0, sold);
        var products = (await month.GetProducts()).Listed;
        Assert.Equal(["SKU-1"], products.Keys);
        Assert.Equal(3, products["SKU-1"].Quantity);
    }

    /// <summary>A push's two writes, the day's rollup and the product increment, go in one transaction of the month's partition.</summary>
    [Fact]
    public async Task A_push_writes_its_rollup_and_product_increment_in_one_transaction()
    {
        var ct = TestContext.Current.CancellationToken;
        var requests = new RequestCounter();
        var tables = ClusterTables.Unique("pushone");

        // A linger long enough for a pause of the process between the two writes (at most ten lingers within a flush interval).
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct,
            new Dictionary<string, string?>
            {
                ["Statistics:Reconciliation:Enabled"] = "false",
                ["Statistics:GroupCommitLinger"] = "00:00:01",
                ["Statistics:FlushInterval"] = StatsCluster.NoFlushTick,
            },
            configureSilo: silo => silo.Services.AddSingleton(new StorageClientPolicy(requests)));
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 9));
        var sold = new Dictionary<string, ProductTotals> { ["SKU-1"] = new() { Quantity = 3, Revenue = 30m } };
        await month.SetDay(4, new DayRollup { Revision = 1 }, 0, sold); // activates the month and registers it in the catalog

        requests.Reset();
        await month.SetDay(5, new DayRollup { Revision = 1 }, 0, sold);

        Assert.Equal(["POST /devstoreaccount1/$batch"], requests.SentTo(tables.Statistics));
        await cluster.DeactivateAsync(month);
        Assert.Equal(1, await month.RevisionOf(5));
        Assert.Equal(6, (await month.GetProducts()).Listed["SKU-1"].Quantity);
    }

    /// <summary>
    /// A push writes the day's rollup and the product increment at once; when only the increment
    /// lands (here the rollup outgrew the month's entity), the month reports the push as not landed,
    /// and the push sent again writes the rollup without adding the increment twice.
    /// </summary>
    [Fact]
    public async Task A_push_whose_product_increment_landed_without_its_rollup_is_completed_when_sent_again()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StartAsync(new PushFaults(), "pushhalf", ct);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, 2026, 9));
        var sold = new Dictionary<string, ProductTotals> { ["SKU-1"] = new() { Quantity = 3, Revenue = 30m } };
        var tooLarge = new DayRollup { Revision = 1 };
        for (var i = 0; i < 40_000; i++)
        {
            tooLarge.Day.Events[string.Create(CultureInfo.InvariantCulture, $"{new string('E', 40)}{i:D6}")] = 1;
        }

        await Assert.ThrowsAnyAsync<Exception>(() => month.SetDay(5, tooLarge, 0, sold));
        await cluster.DeactivateAsync(month);
        Assert.Equal(3, (await month.GetProducts()).Listed["SKU-1"].Quantity); // the increment landed
        Assert.Equal(0, await month.RevisionOf(5));

        var rollup = new DayRollup { Revision = 1 };
        rollup.Day.Events["OrderPaid"] = 3;
        await month.SetDay(5, rollup, 0, sold);

        await cluster.DeactivateAsync(month);
        Assert.Equal(1, await month.RevisionOf(5));
        Assert.Equal(3, (await month.GetProducts()).Listed["SKU-1"].Quantity);
        Assert.Equal(3, (await month.GetDays(5, 6))[5].Day.Events["OrderPaid"]);
    }

    /// <summary>
    /// A rebuild runs in its grain's memory; one whose grain never ran (or whose silo went away)
    /// stayed "running" for good, refusing every later rebuild. The control grain's next
    /// activation starts it again.
    /// </summary>
    [Fact]
    public async Task A_rebuild_that_stopped_running_is_started_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var faults = new PushFaults(nameof(IProjectionRebuildGrain.Start));
        await using var cluster = await StartAsync(faults, "rebuildagain", ct);
        var at = new DateTimeOffset(2026, 9, 9, 12, 0, 0, TimeSpan.Zero);
        await cluster.ExecuteAsync(new Model.ScenarioGenerator(new Random(5), ["AGAIN-1"]).Order("again-1", "again-customer", "EUR", Model.Lifecycle.Delivered, at));
        var control = cluster.Client.GetGrain<IProjectionControl>(0);
        Assert.Equal(1, await control.Active());

        faults.Next(PushFault.LostOnTheWay);
        await Assert.ThrowsAsync<TimeoutException>(() => cluster.Client.GetGrain<IProjectionsGrain>(0).StartRebuild());
        var targets = await control.Targets();
        Assert.Equal(new[] { 1, 2 }, targets);

        await cluster.DeactivateAsync(control);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await control.Active() != 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "The rebuild was not started again.");
            await Task.Delay(100, ct);
        }

        Assert.Equal(4, (await cluster.Client.GetGrain<IStatisticsGrain>(0).Summary(null, null)).Events.Values.Sum());
    }

    /// <summary>
    /// A rebuild reports its end once it is recorded as running only: a repeated report (its answer
    /// was lost, or a copy started again also reports) changes nothing. A failure reported after
    /// the success marked a serving generation failed.
    /// </summary>
    [Fact]
    public async Task A_late_report_of_a_finished_rebuild_changes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StartAsync(new PushFaults(), "latefinish", ct);
        var control = cluster.Client.GetGrain<IProjectionControl>(0);
        var projections = cluster.Client.GetGrain<IProjectionsGrain>(0);
        var (started, _) = await projections.StartRebuild();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await control.Active() != started.Generation)
        {
            Assert.True(DateTime.UtcNow < deadline, "The rebuild did not complete.");
            await Task.Delay(100, ct);
        }

        await control.Finish(started.Id, 0, "a late failure report");
        await control.Finish(started.Id, 0, null);

        var status = await projections.GetRebuild(started.Id);
        Assert.Equal(RebuildState.Completed, status!.State);
        Assert.Null(status.Error);
        Assert.Equal(started.Generation, await control.Active());
    }

    /// <summary>
    /// A customer's cancel/refund-ratio alert takes the time of the latest bad ending, so it moves
    /// to the feed of another day. When withdrawing it from the old day failed but raising it on
    /// the new one worked, and the alert then stopped standing, the new day kept it for good.
    /// </summary>
    [Fact]
    public async Task An_alert_that_moved_day_while_a_feed_failed_is_withdrawn_everywhere()
    {
        var ct = TestContext.Current.CancellationToken;
        var day1 = new DateOnly(2026, 9, 11);
        var faults = new PushFaults(nameof(IAlertFeedGrain.Apply), StatisticsKeys.AlertDay(1, day1));
        await using var cluster = await StartAsync(faults, "alertmove", ct);
        var customer = cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, "mover"));
        var start = new DateTimeOffset(day1.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(-1);
        OrderEventEnvelope Event(string order, int version, string type, OrderStatus before, OrderStatus after, DateTimeOffset at) =>
            new(order, version, Guid.NewGuid(), type, at, "mover", "EUR", 10m, 0m, [new OrderLine("MOVE-1", 1, 10m)], before, after, null, null, null);
        OrderEventEnvelope Placed(int i) => Event($"move-{i}", 1, OrderPlaced.StoredName, OrderStatus.None, OrderStatus.Placed, start.AddHours(i));
        OrderEventEnvelope Cancelled(int i, DateTimeOffset at) => Event($"move-{i}", 2, OrderCancelled.StoredName, OrderStatus.Placed, OrderStatus.Cancelled, at);

        // 2 of 4 orders cancelled, the later on day 1: the alert stands on day 1.
        await customer.IngestAndPersist([Placed(0), Placed(1), Placed(2), Placed(3), Cancelled(0, start.AddHours(10)), Cancelled(1, start.AddDays(1).AddHours(2))]);
        Assert.Equal([RiskRules.CancelRefundRatio], (await cluster.Reader.Alerts(ct)).Select(a => a.Rule));

        // A third cancellation on day 2 moves it there; day 1's feed fails to withdraw it.
        faults.Next(PushFault.LostOnTheWay);
        await Assert.ThrowsAsync<TimeoutException>(() => customer.IngestAndPersist([Cancelled(2, start.AddDays(2).AddHours(3))]));

        // Four more orders dilute the ratio below the limit: the alert no longer stands, anywhere.
        await customer.IngestAndPersist([Placed(4), Placed(5), Placed(6), Placed(7)]);
        Assert.Empty((await customer.Get())!.Rules);
        Assert.Empty(await cluster.Reader.Alerts(ct));
    }

    private async Task<StatsCluster> StartAsync(PushFaults faults, string prefix, CancellationToken ct, IReadOnlyDictionary<string, string?>? settings = null) =>
        await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique(prefix), ct, settings,
            configureSilo: silo => silo.AddIncomingGrainCallFilter(faults));

    /// <summary>After a new activation of the month: its products, day rollup and revision agree with the orders sent.</summary>
    private static async Task AssertMonthHoldsAsync(StatsCluster cluster, DateOnly day, int orders)
    {
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, day.Year, day.Month));
        await cluster.DeactivateAsync(month);
        var products = (await month.GetProducts()).Listed;
        Assert.Equal(orders * 2, products["PUSH-SKU"].Quantity);
        Assert.Equal(orders * 20m, products["PUSH-SKU"].Revenue);
        var rollup = (await month.GetDays(day.Day, day.Day + 1))[day.Day];
        Assert.Equal(orders, rollup.Day.EnteredCount(OrderStatus.Paid));
        Assert.Equal(rollup.Revision, await month.RevisionOf(day.Day));
    }

    /// <summary>Placement and payment of <paramref name="orders"/> orders on shard 0, each of 2 × PUSH-SKU at 10.</summary>
    private static List<OrderEventEnvelope> PaidOrders(DateOnly day, string prefix, int orders)
    {
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        ImmutableArray<OrderLine> lines = [new OrderLine("PUSH-SKU", 2, 10m)];
        var envelopes = new List<OrderEventEnvelope>();
        for (var i = 0; envelopes.Count < orders * 2; i++)
        {
            var orderId = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");
            if (OrderEventStreams.ShardOf(orderId) != 0)
            {
                continue;
            }

            envelopes.Add(new OrderEventEnvelope(orderId, 1, Guid.NewGuid(), OrderPlaced.StoredName, at, "c", "EUR", 20m, 0m, lines,
                OrderStatus.None, OrderStatus.Placed, null, null, null));
            envelopes.Add(new OrderEventEnvelope(orderId, 2, Guid.NewGuid(), OrderPaid.StoredName, at.AddMinutes(1), "c", "EUR", 20m, 20m, lines,
                OrderStatus.Placed, OrderStatus.Paid, 60, null, null));
        }

        return envelopes;
    }
}

public enum PushFault
{
    /// <summary>The push never reaches the month.</summary>
    LostOnTheWay,

    /// <summary>The month applies the push, but its answer never reaches the day.</summary>
    AnswerLost,
}

/// <summary>Fails the next calls of a grain method (by default <see cref="IMonthStatsGrain.SetDay"/>), of one grain if <c>grainKey</c> is given, as told.</summary>
public sealed class PushFaults(string method = nameof(IMonthStatsGrain.SetDay), string? grainKey = null) : IIncomingGrainCallFilter
{
    private readonly ConcurrentQueue<PushFault> next = new();

    public int Pending => next.Count;

    /// <summary>Calls failed so far.</summary>
    public int Injected => injected;

    private int injected;

    public void Clear() => next.Clear();

    public void Next(PushFault fault, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            next.Enqueue(fault);
        }
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name != method || (grainKey is not null && context.TargetId.Key.ToString() != grainKey) || !next.TryDequeue(out var fault))
        {
            await context.Invoke();
            return;
        }

        if (fault == PushFault.AnswerLost)
        {
            await context.Invoke();
        }

        Interlocked.Increment(ref injected);
        throw new TimeoutException($"Injected by the test: {fault}.");
    }
}
