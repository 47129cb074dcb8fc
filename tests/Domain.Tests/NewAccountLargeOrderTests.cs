using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// Risk rule new-account-large-order as pure logic: the customer's projection state counts the two
/// sources (<see cref="CustomerStatsState.Count(OrderEventEnvelope)"/>, <see cref="CustomerStatsState.Count(CustomerEventEnvelope)"/>)
/// and <see cref="RiskRules.Evaluate"/> joins the registration with every placement.
/// </summary>
public sealed class NewAccountLargeOrderTests
{
    private static readonly RiskOptions Risk = new() { NewAccountLargeOrderAmount = 1_000m, NewAccountWindow = TimeSpan.FromHours(24) };

    private static readonly DateTimeOffset Registered = OrderBuilder.Start;

    [Fact]
    public void A_large_order_within_the_window_raises_an_alert_whichever_source_arrives_first()
    {
        var order = Placement("big", Registered.AddHours(2), 1_500m);

        var registrationFirst = new CustomerStatsState();
        Assert.True(registrationFirst.Count(Registration()));
        Assert.True(registrationFirst.Count(order));

        var orderFirst = new CustomerStatsState();
        Assert.True(orderFirst.Count(order));
        Assert.Empty(Alerts(orderFirst)); // the registration is not known yet
        Assert.True(orderFirst.Count(Registration()));

        foreach (var state in new[] { registrationFirst, orderFirst })
        {
            var alert = Assert.Single(Alerts(state));
            Assert.Equal(("new-account-large-order/big", RiskRules.NewAccountLargeOrder, "c", "big", order.OccurredAt), (alert.Id, alert.Rule, alert.CustomerId, alert.OrderId, alert.RaisedAt));
        }
    }

    [Theory]
    [InlineData(1_000, 2)] // not over the amount
    [InlineData(999.99, 2)]
    [InlineData(1_500, 24.01)] // after the window
    [InlineData(1_500, -0.01)] // before the registration
    public void No_alert_for_a_small_order_or_one_outside_the_window(decimal total, double hoursAfterRegistration)
    {
        var order = Placement("o", Registered.AddHours(hoursAfterRegistration), total);
        var registrationFirst = new CustomerStatsState();
        registrationFirst.Count(Registration());
        registrationFirst.Count(order);
        var orderFirst = new CustomerStatsState();
        orderFirst.Count(order);
        orderFirst.Count(Registration());

        Assert.Empty(Alerts(registrationFirst));
        Assert.Empty(Alerts(orderFirst));
    }

    [Fact]
    public void The_window_includes_its_ends()
    {
        var state = new CustomerStatsState();
        state.Count(Registration());
        state.Count(Placement("at-registration", Registered, 1_001m));
        state.Count(Placement("at-window-end", Registered + Risk.NewAccountWindow, 1_001m));

        Assert.Equal(["at-registration", "at-window-end"], Alerts(state).Select(a => a.OrderId));
    }

    [Fact]
    public void Redelivered_events_change_nothing()
    {
        var state = new CustomerStatsState();
        var order = Placement("big", Registered.AddHours(1), 2_000m);
        Assert.True(state.Count(order));
        Assert.False(state.Count(order));
        Assert.True(state.Count(Registration()));
        Assert.False(state.Count(Registration()));
        Assert.False(state.Count(order));

        Assert.Single(Alerts(state));
        Assert.Equal(1, state.Orders);
    }

    /// <summary>Review finding: the join kept at most the 100 earliest large orders of a customer not registered yet.</summary>
    [Fact]
    public void Every_large_order_counted_before_the_registration_raises_its_alert()
    {
        var state = new CustomerStatsState();
        var orders = Enumerable.Range(0, 150).Select(i => Placement($"o-{i:D4}", Registered.AddMinutes(i), 5_000m)).Reverse().ToList();
        foreach (var order in orders)
        {
            state.Count(order);
        }

        state.Count(Registration());

        Assert.Equal(orders.Select(o => o.OrderId).Order(StringComparer.Ordinal), Alerts(state).Select(a => a.OrderId));
    }

    /// <summary>Review finding: the thresholds in force when an order was counted decided it for good.</summary>
    [Fact]
    public void Thresholds_apply_at_each_evaluation_to_orders_counted_before()
    {
        var state = new CustomerStatsState();
        state.Count(Registration());
        state.Count(Placement("medium", Registered.AddHours(30), 800m));
        Assert.Empty(Alerts(state));

        var lower = new RiskOptions { NewAccountLargeOrderAmount = 500m, NewAccountWindow = TimeSpan.FromHours(48) };

        Assert.Equal("medium", Assert.Single(RiskRules.Evaluate("c", state, lower), a => a.Rule == RiskRules.NewAccountLargeOrder).OrderId);
    }

    [Fact]
    public void Any_interleaving_of_the_two_sources_gives_the_alerts_of_event_time_order()
    {
        // Orders from 6 hours before the registration to 30 after (the window is 24), totals around the amount;
        // a delivery is a shuffle of the orders with the registration anywhere, and some events repeated.
        var orders = Gen.Select(Gen.Int[-360, 1_800], Gen.Int[900, 1_100]).Array[0, 30];
        Gen.Select(orders, Gen.Int, Gen.Int[0, 30], Gen.Int[0, 5]).Sample((generated, seed, registrationAt, repeats) =>
        {
            var placed = generated.Select((o, i) => Placement($"o-{i}", Registered.AddMinutes(o.Item1), o.Item2)).ToList();

            var inEventTime = new CustomerStatsState();
            var events = placed.Select(order => (At: order.OccurredAt, Order: (OrderEventEnvelope?)order)).Append((At: Registered, Order: null));
            foreach (var (_, order) in events.OrderBy(e => e.At))
            {
                Deliver(inEventTime, order);
            }

            var random = new Random(seed);
            var delivery = placed.Select(order => (OrderEventEnvelope?)order).OrderBy(_ => random.Next()).ToList();
            delivery.Insert(Math.Min(registrationAt, delivery.Count), null);
            delivery.AddRange(Enumerable.Range(0, repeats).Select(_ => delivery[random.Next(delivery.Count)]));
            var interleaved = new CustomerStatsState();
            foreach (var order in delivery)
            {
                Deliver(interleaved, order);
            }

            var expected = placed
                .Where(o => o.OrderTotal > Risk.NewAccountLargeOrderAmount && o.OccurredAt >= Registered && o.OccurredAt - Registered <= Risk.NewAccountWindow)
                .OrderBy(o => o.OccurredAt).ThenBy(o => o.OrderId, StringComparer.Ordinal)
                .Select(o => $"new-account-large-order/{o.OrderId}");
            Assert.Equal(expected, Alerts(inEventTime).Select(a => a.Id));
            Assert.Equal(Alerts(inEventTime), Alerts(interleaved));
        }, iter: 500);

        static void Deliver(CustomerStatsState state, OrderEventEnvelope? order)
        {
            if (order is null)
            {
                state.Count(Registration());
            }
            else
            {
                state.Count(order);
            }
        }
    }

    /// <summary>
    /// Until 2026-11-29, layout 4 kept the join's large orders next to the registration (field 14:
    /// registration time in field 0, the orders in field 1). Such state is read as it is, without a
    /// rebuild: the registration stays, the orders are skipped (every placement is in field 6).
    /// </summary>
    [Fact]
    public void State_stored_with_the_bounded_join_reads_with_its_registration_and_placements()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var order = new PlacedOrder("big", Registered.AddHours(3), 4_000m);
        var stored = new CustomerStatsStateOfLayout4
        {
            Placed = [order],
            NewAccount = new NewAccountLargeOrdersOfLayout4 { RegisteredAt = Registered, Orders = [order] },
        };

        var read = serializer.Deserialize<CustomerStatsState>(serializer.SerializeToArray(stored))!;

        Assert.Equal(Registered, read.Registration.RegisteredAt);
        Assert.Equal("big", Assert.Single(Alerts(read)).OrderId);
    }

    [Fact]
    public void Risk_options_without_a_positive_window_or_with_a_negative_amount_are_refused()
    {
        var validation = new RiskOptionsValidation();
        Assert.True(validation.Validate(null, new StatisticsOptions()).Succeeded);

        var refused = validation.Validate(null, new StatisticsOptions { Risk = new RiskOptions { NewAccountLargeOrderAmount = -1m, NewAccountWindow = TimeSpan.Zero } });

        Assert.True(refused.Failed);
        Assert.Contains("Statistics:Risk:NewAccountLargeOrderAmount", refused.FailureMessage);
        Assert.Contains("Statistics:Risk:NewAccountWindow", refused.FailureMessage);
    }

    [Fact]
    public void A_flush_interval_that_is_not_positive_or_a_linger_not_shorter_than_it_is_refused()
    {
        var validation = new StatisticsOptionsValidation();
        Assert.True(validation.Validate(null, new StatisticsOptions()).Succeeded);

        var zero = validation.Validate(null, new StatisticsOptions { FlushInterval = TimeSpan.Zero });
        Assert.True(zero.Failed);
        Assert.Contains("Statistics:FlushInterval", zero.FailureMessage);

        var linger = validation.Validate(null, new StatisticsOptions { GroupCommitLinger = TimeSpan.FromSeconds(-1) });
        Assert.True(linger.Failed);
        Assert.Contains("Statistics:GroupCommitLinger", linger.FailureMessage);
        Assert.True(validation.Validate(null, new StatisticsOptions { GroupCommitLinger = TimeSpan.FromSeconds(1) }).Failed);

        // A write may wait ten lingers for others to join it: all ten within one flush interval.
        Assert.True(validation.Validate(null, new StatisticsOptions { GroupCommitLinger = TimeSpan.FromMilliseconds(100) }).Failed);
        Assert.True(validation.Validate(null, new StatisticsOptions { GroupCommitLinger = TimeSpan.FromMilliseconds(99) }).Succeeded);
    }

    [Fact]
    public void A_silo_holds_no_envelopes_or_more_never_fewer()
    {
        var validation = new StatisticsOptionsValidation();
        var negative = validation.Validate(null, new StatisticsOptions { Reconciliation = new() { HeldEnvelopes = -1 } });
        Assert.True(negative.Failed);
        Assert.Contains("Statistics:Reconciliation:HeldEnvelopes", negative.FailureMessage);
        Assert.True(validation.Validate(null, new StatisticsOptions { Reconciliation = new() { HeldEnvelopes = 0 } }).Succeeded);
    }

    /// <summary>Rule large-order's text states the earlier orders' average as money: to the cent, halves away from zero.</summary>
    [Fact]
    public void A_large_order_alert_states_the_average_earlier_order_rounded_as_money()
    {
        var state = new CustomerStatsState();
        state.Count(Placement("first", Registered.AddDays(2), 10.00m));
        state.Count(Placement("second", Registered.AddDays(3), 10.25m));
        state.Count(Placement("large", Registered.AddDays(4), 60m));

        var alert = Assert.Single(RiskRules.Evaluate("c", state, new RiskOptions { LargeOrderFactor = 5m, LargeOrderMinHistory = 2 }), a => a.Rule == RiskRules.LargeOrder);
        Assert.Contains("average earlier order of 10.13.", alert.Detail, StringComparison.Ordinal);
    }

    private static List<RiskAlert> Alerts(CustomerStatsState state) =>
        [.. RiskRules.Evaluate("c", state, Risk).Where(a => a.Rule == RiskRules.NewAccountLargeOrder)];

    /// <summary>The envelope of a placement of customer "c", as the order grain publishes it.</summary>
    private static OrderEventEnvelope Placement(string orderId, DateTimeOffset at, decimal total) =>
        new(orderId, 1, Guid.NewGuid(), OrderPlaced.StoredName, at, "c", "EUR", total, 0m, [], OrderStatus.None, OrderStatus.Placed, null, null, null);

    /// <summary>The envelope of customer "c"'s registration (version 1).</summary>
    private static CustomerEventEnvelope Registration() =>
        new("c", 1, Guid.NewGuid(), CustomerRegistered.StoredName, Registered, "DE", Registered);
}

/// <summary>The fields of <see cref="CustomerStatsState"/> that layout 4 stored for the join until 2026-11-29, as it declared them.</summary>
[GenerateSerializer, Alias("orderflow.tests.customer-stats-state-layout-4")]
public sealed class CustomerStatsStateOfLayout4
{
    [Id(6)] public List<PlacedOrder> Placed { get; set; } = [];

    [Id(14)] public NewAccountLargeOrdersOfLayout4 NewAccount { get; set; } = new();
}

/// <summary>Layout 4's <c>NewAccountLargeOrders</c>, as it was declared.</summary>
[GenerateSerializer, Alias("orderflow.tests.new-account-large-orders-layout-4")]
public sealed class NewAccountLargeOrdersOfLayout4
{
    [Id(0)] public DateTimeOffset? RegisteredAt { get; set; }

    [Id(1)] public List<PlacedOrder> Orders { get; set; } = [];
}
