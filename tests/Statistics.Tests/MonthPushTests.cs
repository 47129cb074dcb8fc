using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using OrderFlow.Grains.Statistics;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// A day sends its month product sales as increments (the month keeps one total per product),
/// so every increment must land exactly once however the push fails. Faults are injected into
/// the real month grain's calls in a real cluster on Azurite.
/// </summary>
public sealed class MonthPushTests(AzuriteFixture azurite)
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
    }

    /// <summary>A day persisted with a push that never landed, and deactivated: its next activation pushes.</summary>
    [Fact]
    public async Task A_day_deactivated_with_a_push_outstanding_completes_it_when_next_activated()
    {
        var ct = TestContext.Current.CancellationToken;
        var faults = new PushFaults();
        await using var cluster = await StartAsync(faults, "pushdeact", ct);
        var day = new DateOnly(2026, 9, 8);
        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));

        faults.Next(PushFault.LostOnTheWay, times: 2); // the flush and the deactivation's last flush
        await Assert.ThrowsAsync<TimeoutException>(() => grain.IngestAndPersist(PaidOrders(day, "deact", 4)));
        await cluster.DeactivateAsync(grain);
        Assert.Equal(0, faults.Pending);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, day.Year, day.Month));
        Assert.Empty(await month.GetProducts());

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
        Assert.Equal(2, (await month.GetProducts())["SKU-1"].Quantity);

        var outOfStep = await Assert.ThrowsAsync<InvalidOperationException>(() => month.SetDay(3, new DayRollup { Revision = 3 }, 2, sold));
        Assert.Contains("holds revision 1 of day 3", outOfStep.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await month.GetProducts())["SKU-1"].Quantity);
        Assert.Equal(1, await month.RevisionOf(3));
    }

    private async Task<StatsCluster> StartAsync(PushFaults faults, string prefix, CancellationToken ct) =>
        await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique(prefix), ct,
            configureSilo: silo => silo.AddIncomingGrainCallFilter(faults));

    /// <summary>After a new activation of the month: its products, day rollup and revision agree with the orders sent.</summary>
    private static async Task AssertMonthHoldsAsync(StatsCluster cluster, DateOnly day, int orders)
    {
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, day.Year, day.Month));
        await cluster.DeactivateAsync(month);
        var products = await month.GetProducts();
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

            envelopes.Add(new OrderEventEnvelope(orderId, 1, Guid.NewGuid(), nameof(OrderPlaced), at, "c", "EUR", 20m, 0m, lines,
                OrderStatus.None, OrderStatus.Placed, null, null, null));
            envelopes.Add(new OrderEventEnvelope(orderId, 2, Guid.NewGuid(), nameof(OrderPaid), at.AddMinutes(1), "c", "EUR", 20m, 20m, lines,
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

/// <summary>Fails the next calls of <see cref="IMonthStatsGrain.SetDay"/> as told.</summary>
public sealed class PushFaults : IIncomingGrainCallFilter
{
    private readonly ConcurrentQueue<PushFault> next = new();

    public int Pending => next.Count;

    public void Next(PushFault fault, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            next.Enqueue(fault);
        }
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name != nameof(IMonthStatsGrain.SetDay) || !next.TryDequeue(out var fault))
        {
            await context.Invoke();
            return;
        }

        if (fault == PushFault.AnswerLost)
        {
            await context.Invoke();
        }

        throw new TimeoutException($"Injected by the test: {fault}.");
    }
}
