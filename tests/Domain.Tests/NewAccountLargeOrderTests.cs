using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Customers;

namespace OrderFlow.Domain.Tests;

/// <summary>Risk rule new-account-large-order as pure logic: the join of a customer's registration with their orders.</summary>
public sealed class NewAccountLargeOrderTests
{
    private static readonly RiskOptions Risk = new() { NewAccountLargeOrderAmount = 1_000m, NewAccountWindow = TimeSpan.FromHours(24) };

    private static readonly DateTimeOffset Registered = OrderBuilder.Start;

    [Fact]
    public void A_large_order_within_the_window_raises_an_alert_whichever_source_arrives_first()
    {
        var order = new PlacedOrder("big", Registered.AddHours(2), 1_500m);

        var registrationFirst = new NewAccountLargeOrders();
        Assert.True(registrationFirst.Registered(Registered, Risk));
        Assert.True(registrationFirst.Placed(order, Risk));

        var orderFirst = new NewAccountLargeOrders();
        Assert.True(orderFirst.Placed(order, Risk));
        Assert.Empty(orderFirst.Alerts("c", Risk)); // the registration is not known yet
        Assert.True(orderFirst.Registered(Registered, Risk));

        foreach (var join in new[] { registrationFirst, orderFirst })
        {
            var alert = Assert.Single(join.Alerts("c", Risk));
            Assert.Equal(("new-account-large-order/big", RiskRules.NewAccountLargeOrder, "c", "big", order.At), (alert.Id, alert.Rule, alert.CustomerId, alert.OrderId, alert.RaisedAt));
        }
    }

    [Theory]
    [InlineData(1_000, 2)] // not over the amount
    [InlineData(999.99, 2)]
    [InlineData(1_500, 24.01)] // after the window
    [InlineData(1_500, -0.01)] // before the registration
    public void No_alert_for_a_small_order_or_one_outside_the_window(decimal total, double hoursAfterRegistration)
    {
        var order = new PlacedOrder("o", Registered.AddHours(hoursAfterRegistration), total);
        var registrationFirst = new NewAccountLargeOrders();
        registrationFirst.Registered(Registered, Risk);
        registrationFirst.Placed(order, Risk);
        var orderFirst = new NewAccountLargeOrders();
        orderFirst.Placed(order, Risk);
        orderFirst.Registered(Registered, Risk);

        Assert.Empty(registrationFirst.Alerts("c", Risk));
        Assert.Empty(orderFirst.Alerts("c", Risk));
        Assert.Empty(orderFirst.Orders); // nothing is kept once the registration decided it
    }

    [Fact]
    public void The_window_includes_its_ends()
    {
        var join = new NewAccountLargeOrders();
        join.Registered(Registered, Risk);
        join.Placed(new PlacedOrder("at-registration", Registered, 1_001m), Risk);
        join.Placed(new PlacedOrder("at-window-end", Registered + Risk.NewAccountWindow, 1_001m), Risk);

        Assert.Equal(["at-registration", "at-window-end"], join.Alerts("c", Risk).Select(a => a.OrderId));
    }

    [Fact]
    public void Redelivered_events_change_nothing()
    {
        var join = new NewAccountLargeOrders();
        var order = new PlacedOrder("big", Registered.AddHours(1), 2_000m);
        Assert.True(join.Placed(order, Risk));
        Assert.False(join.Placed(order, Risk));
        Assert.True(join.Registered(Registered, Risk));
        Assert.False(join.Registered(Registered, Risk));
        Assert.False(join.Placed(order, Risk));

        Assert.Single(join.Alerts("c", Risk));
    }

    [Fact]
    public void Waiting_large_orders_are_bounded_keeping_the_earliest()
    {
        var join = new NewAccountLargeOrders();
        var orders = Enumerable.Range(0, NewAccountLargeOrders.MaxOrders + 20)
            .Select(i => new PlacedOrder($"o-{i:D4}", Registered.AddMinutes(i), 5_000m))
            .Reverse() // latest first: each earlier one pushes out the latest kept
            .ToList();
        foreach (var order in orders)
        {
            join.Placed(order, Risk);
        }

        Assert.Equal(NewAccountLargeOrders.MaxOrders, join.Orders.Count);
        Assert.Equal(orders.Select(o => o.OrderId).Order(StringComparer.Ordinal).Take(NewAccountLargeOrders.MaxOrders), join.Orders.Select(o => o.OrderId));
        Assert.False(join.Placed(new PlacedOrder("later", Registered.AddDays(1), 5_000m), Risk)); // later than every kept one: not kept
    }

    [Fact]
    public void Any_interleaving_of_the_two_sources_gives_the_alerts_of_event_time_order()
    {
        // Orders from 6 hours before the registration to 30 after (the window is 24), totals around the amount;
        // a delivery is a shuffle of the orders with the registration anywhere, and some events repeated.
        var orders = Gen.Select(Gen.Int[-360, 1_800], Gen.Int[900, 1_100]).Array[0, 30];
        Gen.Select(orders, Gen.Int, Gen.Int[0, 30], Gen.Int[0, 5]).Sample((generated, seed, registrationAt, repeats) =>
        {
            var placed = generated.Select((o, i) => new PlacedOrder($"o-{i}", Registered.AddMinutes(o.Item1), o.Item2)).ToList();

            var inEventTime = new NewAccountLargeOrders();
            var events = placed.Select(order => (At: order.At, Order: (PlacedOrder?)order)).Append((At: Registered, Order: null));
            foreach (var (_, order) in events.OrderBy(e => e.At))
            {
                Deliver(inEventTime, order);
            }

            var random = new Random(seed);
            var delivery = placed.Select(order => (PlacedOrder?)order).OrderBy(_ => random.Next()).ToList();
            delivery.Insert(Math.Min(registrationAt, delivery.Count), null);
            delivery.AddRange(Enumerable.Range(0, repeats).Select(_ => delivery[random.Next(delivery.Count)]));
            var interleaved = new NewAccountLargeOrders();
            foreach (var order in delivery)
            {
                Deliver(interleaved, order);
            }

            var expected = placed
                .Where(o => o.Total > Risk.NewAccountLargeOrderAmount && o.At >= Registered && o.At - Registered <= Risk.NewAccountWindow)
                .OrderBy(o => o.At).ThenBy(o => o.OrderId, StringComparer.Ordinal)
                .Select(o => $"new-account-large-order/{o.OrderId}");
            Assert.Equal(expected, inEventTime.Alerts("c", Risk).Select(a => a.Id));
            Assert.Equal(inEventTime.Alerts("c", Risk), interleaved.Alerts("c", Risk));
        }, iter: 500);

        static void Deliver(NewAccountLargeOrders join, PlacedOrder? order)
        {
            if (order is null)
            {
                join.Registered(Registered, Risk);
            }
            else
            {
                join.Placed(order, Risk);
            }
        }
    }

    [Fact]
    public void The_join_round_trips_through_the_Orleans_serializer_while_it_waits()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var join = new NewAccountLargeOrders();
        join.Placed(new PlacedOrder("big", Registered.AddHours(3), 4_000m), Risk);

        var stored = serializer.Deserialize<NewAccountLargeOrders>(serializer.SerializeToArray(join))!;
        stored.Registered(Registered, Risk);

        Assert.Equal("big", Assert.Single(stored.Alerts("c", Risk)).OrderId);
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
}
