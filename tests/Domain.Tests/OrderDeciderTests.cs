using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;

namespace OrderFlow.Domain.Tests;

public sealed class OrderDeciderTests
{
    [Fact]
    public void Lifecycle_place_pay_ship_deliver_refund_in_full()
    {
        var order = new OrderBuilder().Delivered(unitPrice: 12.5m, quantity: 2);
        Assert.Equal(OrderStatus.Delivered, order.State.Status);
        Assert.Equal(25m, order.State.Total);

        var partial = order.Send(new RefundOrder("r-1", 5m, "scratched"));
        Assert.Null(partial.Error);
        Assert.Equal(OrderStatus.Delivered, order.State.Status);

        order.Send(new RefundOrder("r-2", 20m, "returned"));
        Assert.Equal(OrderStatus.Refunded, order.State.Status);
        Assert.Equal(25m, order.State.Refunded);
        Assert.Equal(6, order.Events.Count);
    }

    [Fact]
    public void Cancelling_a_paid_order_refunds_it_in_full_in_the_same_decision()
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place());
        order.Send(new PayOrder("pay-1", 20m, "card"));

        var decision = order.Send(new CancelOrder("customer changed mind"));

        Assert.Collection(decision.Events,
            e => Assert.IsType<OrderCancelled>(e),
            e => Assert.Equal(new OrderRefunded(e.OccurredAt, OrderDecider.CancellationRefundId, 20m, "customer changed mind"), e));
        Assert.Equal(OrderStatus.Cancelled, order.State.Status);
        Assert.Equal(0m, order.State.Refundable);
    }

    [Fact]
    public void Cancelling_a_placed_order_records_no_refund()
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place());

        var decision = order.Send(new CancelOrder("duplicate"));

        Assert.IsType<OrderCancelled>(Assert.Single(decision.Events));
    }

    public static TheoryData<string, string> IllegalTransitions() => new()
    {
        { "placed", "ship" }, { "placed", "deliver" }, { "placed", "refund" },
        { "paid", "pay" }, { "paid", "deliver" }, { "paid", "refund" },
        { "shipped", "pay" }, { "shipped", "ship" }, { "shipped", "cancel" }, { "shipped", "refund" },
        { "delivered", "pay" }, { "delivered", "ship" }, { "delivered", "deliver" }, { "delivered", "cancel" },
        { "cancelled", "pay" }, { "cancelled", "ship" }, { "cancelled", "deliver" }, { "cancelled", "cancel" }, { "cancelled", "refund" },
        { "refunded", "pay" }, { "refunded", "ship" }, { "refunded", "deliver" }, { "refunded", "cancel" }, { "refunded", "refund" },
    };

    [Theory]
    [MemberData(nameof(IllegalTransitions))]
    public void A_command_the_status_does_not_allow_is_refused_with_no_events(string status, string command)
    {
        var order = InStatus(status);
        var before = order.Events.Count;

        var decision = order.Send(Command(command));

        Assert.Equal(CommandErrorCode.InvalidTransition, decision.Error?.Code);
        Assert.Empty(decision.Events);
        Assert.Equal(before, order.Events.Count);
    }

    [Theory]
    [InlineData("pay")]
    [InlineData("ship")]
    [InlineData("deliver")]
    [InlineData("cancel")]
    [InlineData("refund")]
    public void Commands_on_an_order_that_does_not_exist_are_not_found(string command)
    {
        var decision = new OrderBuilder().Send(Command(command));

        Assert.Equal(CommandErrorCode.NotFound, decision.Error?.Code);
    }

    [Fact]
    public void Placing_an_existing_order_is_refused()
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place());

        Assert.Equal(CommandErrorCode.AlreadyExists, order.Send(OrderBuilder.Place()).Error?.Code);
    }

    [Fact]
    public void Payment_must_equal_the_total()
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place(unitPrice: 10m, quantity: 2));

        var decision = order.Send(new PayOrder("pay-1", 19.99m, "card"));

        Assert.Equal(CommandErrorCode.Unprocessable, decision.Error?.Code);
        Assert.Equal(OrderStatus.Placed, order.State.Status);
    }

    [Fact]
    public void A_refund_may_not_exceed_what_is_left()
    {
        var order = new OrderBuilder().Delivered(unitPrice: 10m, quantity: 2);
        order.Send(new RefundOrder("r-1", 15m, "part"));

        var decision = order.Send(new RefundOrder("r-2", 5.01m, "too much"));

        Assert.Equal(CommandErrorCode.Unprocessable, decision.Error?.Code);
        Assert.Equal(15m, order.State.Refunded);
    }

    [Fact]
    public void A_repeated_payment_id_is_applied_once()
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place());
        order.Send(new PayOrder("pay-1", 20m, "card"));
        order.Send(new ShipOrder("DHL", "T-1"));

        var again = order.Send(new PayOrder("pay-1", 20m, "card"));

        Assert.True(again.AlreadyApplied);
        Assert.Empty(again.Events);
        Assert.Equal(20m, order.State.Paid);
    }

    [Fact]
    public void A_repeated_refund_id_is_applied_once_and_with_another_amount_is_refused()
    {
        var order = new OrderBuilder().Delivered();
        order.Send(new RefundOrder("r-1", 5m, "part"));

        Assert.True(order.Send(new RefundOrder("r-1", 5m, "part")).AlreadyApplied);
        Assert.Equal(CommandErrorCode.Unprocessable, order.Send(new RefundOrder("r-1", 6m, "part")).Error?.Code);
        Assert.Equal(5m, order.State.Refunded);
    }

    [Fact]
    public void Event_time_defaults_to_now_truncated_to_milliseconds()
    {
        var order = new OrderBuilder { Now = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).AddTicks(12_345_678) };

        order.Send(OrderBuilder.Place());

        Assert.Equal(new DateTimeOffset(2026, 11, 2, 8, 0, 1, 234, TimeSpan.Zero), order.State.PlacedAt);
    }

    [Fact]
    public void Event_time_may_not_go_back_before_the_previous_event()
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place() with { OccurredAt = OrderBuilder.Start.AddHours(2) });

        var decision = order.Send(new PayOrder("pay-1", 20m, "card", OrderBuilder.Start.AddHours(1)));

        Assert.Equal(CommandErrorCode.Validation, decision.Error?.Code);
        Assert.Contains("occurredAt", decision.Error!.Errors!.Keys);
        Assert.False(decision.FromFieldsAlone); // against the state: checked on a view storage still holds
    }

    [Fact]
    public void Event_time_may_not_lie_more_than_five_seconds_ahead()
    {
        var order = new OrderBuilder();

        var ahead = order.Send(OrderBuilder.Place() with { OccurredAt = order.Now.AddSeconds(6) });
        Assert.Contains("occurredAt", ahead.Error!.Errors!.Keys);
        Assert.True(ahead.FromFieldsAlone);

        var withinSkew = order.Send(OrderBuilder.Place() with { OccurredAt = order.Now.AddSeconds(4) });
        Assert.Null(withinSkew.Error);
    }

    [Fact]
    public void Placement_must_name_the_order_it_is_sent_to()
    {
        var decision = new OrderBuilder().Send(OrderBuilder.Place(id: "another-order"));

        Assert.Contains("orderId", decision.Error!.Errors!.Keys);
    }

    internal static OrderBuilder InStatus(string status)
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place());
        if (status == "placed")
        {
            return order;
        }

        if (status == "cancelled")
        {
            order.Send(new CancelOrder("test"));
            return order;
        }

        order.Send(new PayOrder("pay-1", 20m, "card"));
        if (status == "paid")
        {
            return order;
        }

        order.Send(new ShipOrder("DHL", "T-1"));
        if (status == "shipped")
        {
            return order;
        }

        order.Send(new DeliverOrder());
        if (status == "refunded")
        {
            order.Send(new RefundOrder("r-all", 20m, "returned"));
        }

        Assert.Equal(status, order.State.Status.ToString().ToLowerInvariant());
        return order;
    }

    internal static OrderCommand Command(string name) => name switch
    {
        "pay" => new PayOrder("pay-2", 20m, "card"),
        "ship" => new ShipOrder("UPS", "T-2"),
        "deliver" => new DeliverOrder(),
        "cancel" => new CancelOrder("test"),
        "refund" => new RefundOrder("r-2", 1m, "test"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}

public sealed class EventTimeTests
{
    [Fact]
    public void Without_an_event_time_a_command_follows_a_previous_event_that_lies_ahead_of_the_server_clock()
    {
        // The previous event was stamped by a client (or silo) up to 5 s ahead of this server.
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place() with { OccurredAt = order.Now.AddSeconds(4) });

        var payment = order.Send(new PayOrder("pay-1", 20m, "card"));

        Assert.Null(payment.Error);
        Assert.Equal(order.State.PlacedAt, order.State.PaidAt);
    }

    [Fact]
    public void Event_times_before_1601_are_refused_because_table_storage_cannot_keep_them()
    {
        var order = new OrderBuilder();

        var decision = order.Send(OrderBuilder.Place() with { OccurredAt = new DateTimeOffset(1600, 12, 31, 0, 0, 0, TimeSpan.Zero) });

        Assert.Contains("occurredAt", decision.Error!.Errors!.Keys);
        Assert.Null(order.Send(OrderBuilder.Place() with { OccurredAt = OrderFlow.Grains.Orders.OrderCommandValidator.MinEventTime }).Error);
    }

    [Fact]
    public void No_client_refund_id_can_replay_the_refund_of_a_cancellation()
    {
        var order = new OrderBuilder();
        order.Send(OrderBuilder.Place());
        order.Send(new PayOrder("pay-1", 20m, "card"));
        order.Send(new CancelOrder("changed mind"));

        var decision = order.Send(new RefundOrder("cancellation", 20m, "again"));

        Assert.Equal(OrderFlow.Orders.CommandErrorCode.InvalidTransition, decision.Error?.Code);
        Assert.False(OrderFlow.Orders.Identifiers.IsValid(OrderFlow.Grains.Orders.OrderDecider.CancellationRefundId));
    }
}
