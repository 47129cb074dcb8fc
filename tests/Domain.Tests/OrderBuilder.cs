using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;

namespace OrderFlow.Domain.Tests;

/// <summary>Drives <see cref="OrderDecider"/> and <see cref="OrderState"/> together, as the grain does.</summary>
internal sealed class OrderBuilder
{
    public const string OrderId = "order-1";

    public static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    public OrderState State { get; } = new();

    public List<OrderEvent> Events { get; } = [];

    public DateTimeOffset Now { get; set; } = Start.AddDays(1);

    public static PlaceOrder Place(decimal unitPrice = 10m, int quantity = 2, string id = OrderId) =>
        new(id, "customer-1", "EUR", [new OrderLineRequest("sku-1", quantity, unitPrice)]);

    /// <summary>The order's refund rows: refund id → amount, as the grain writes them with each refund.</summary>
    public Dictionary<string, decimal> RefundRows { get; } = [];

    public Decision<OrderEvent> Send(OrderCommand command)
    {
        var recorded = command is RefundOrder { RefundId: { } refundId } && RefundRows.TryGetValue(refundId, out var amount) ? amount : (decimal?)null;
        var decision = OrderDecider.Decide(State, OrderId, command, Now, recorded);
        foreach (var @event in decision.Events)
        {
            State.Apply(@event);
            Events.Add(@event);
            if (@event is OrderRefunded refunded)
            {
                RefundRows[refunded.RefundId] = refunded.Amount;
            }
        }

        return decision;
    }

    public OrderBuilder Delivered(decimal unitPrice = 10m, int quantity = 2)
    {
        Send(Place(unitPrice, quantity));
        Send(new PayOrder("pay-1", unitPrice * quantity, "card"));
        Send(new ShipOrder("DHL", "T-1"));
        Send(new DeliverOrder());
        return this;
    }
}
