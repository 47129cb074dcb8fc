using System.Collections.Immutable;
using System.Globalization;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using OrderDecision = OrderFlow.Grains.EventSourcing.Decision<OrderFlow.Orders.Events.OrderEvent>;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// The order's business rules as a pure function: (state, command, clock) → decision. The grain
/// appends what this returns; tests drive it directly.
/// </summary>
public static class OrderDecider
{
    /// <summary>
    /// The refund id of the refund that a cancellation of a paid order records, in the same
    /// transaction. '~' is outside the id alphabet, so no client refund id can collide with it.
    /// </summary>
    public const string CancellationRefundId = "~cancellation";

    /// <param name="recordedRefund">
    /// For a <see cref="RefundOrder"/>: the amount recorded for its refund id by the order's refund
    /// row, when the caller read it (null: not recorded, or not read). Refunds without a row are in
    /// <see cref="OrderState.RefundsWithoutRows"/>.
    /// </param>
    public static OrderDecision Decide(OrderState state, string orderId, OrderCommand command, DateTimeOffset now, decimal? recordedRefund = null)
    {
        var errors = OrderCommandValidator.Validate(command, now);
        if (command is PlaceOrder { OrderId: { } requestedId } && requestedId != orderId && !errors.ContainsKey("orderId"))
        {
            errors["orderId"] = [$"must be the id of the order it is sent to ('{orderId}')"];
        }

        if (errors.Count > 0)
        {
            return OrderDecision.RefuseFields(errors);
        }

        if (command is PlaceOrder place)
        {
            return state.Exists
                ? OrderDecision.Refuse(CommandErrorCode.AlreadyExists, $"Order '{orderId}' already exists.")
                : Place(orderId, place, EventTime(command, now, state));
        }

        if (!state.Exists)
        {
            return OrderDecision.Refuse(CommandErrorCode.NotFound, $"Order '{orderId}' does not exist.");
        }

        // A repeated payment or refund id is the same request again: answer it, write nothing.
        var repeat = Repeat(state, command, recordedRefund);
        if (repeat is not null)
        {
            return repeat;
        }

        var allowed = command switch
        {
            PayOrder => state.Status == OrderStatus.Placed,
            ShipOrder => state.Status == OrderStatus.Paid,
            DeliverOrder => state.Status == OrderStatus.Shipped,
            CancelOrder => state.Status is OrderStatus.Placed or OrderStatus.Paid,
            RefundOrder => state.Status == OrderStatus.Delivered,
            _ => false,
        };
        if (!allowed)
        {
            return OrderDecision.Refuse(
                CommandErrorCode.InvalidTransition,
                $"Order '{orderId}' is {state.Status.ToString().ToLowerInvariant()}: it cannot be {Verb(command)}.");
        }

        var occurredAt = EventTime(command, now, state);
        if (occurredAt < state.UpdatedAt)
        {
            return OrderDecision.Refuse(CommandErrorCode.Validation, "The command has invalid fields.", new Dictionary<string, string[]>
            {
                ["occurredAt"] = [$"must not be before the order's previous event ({state.UpdatedAt:O})"],
            });
        }

        switch (command)
        {
            case PayOrder pay when pay.Amount != state.Total:
                return OrderDecision.Refuse(
                    CommandErrorCode.Unprocessable,
                    string.Create(CultureInfo.InvariantCulture, $"The payment of {pay.Amount} must equal the order total of {state.Total} {state.Currency}."));
            case PayOrder pay:
                return OrderDecision.Append(new OrderPaid(occurredAt, pay.PaymentId!, pay.Amount!.Value, pay.Method!));
            case ShipOrder ship:
                return OrderDecision.Append(new OrderShipped(occurredAt, ship.Carrier!, ship.TrackingNumber!));
            case DeliverOrder:
                return OrderDecision.Append(new OrderDelivered(occurredAt));
            case CancelOrder cancel when state.Refundable > 0:
                return OrderDecision.Append(
                    new OrderCancelled(occurredAt, cancel.Reason!),
                    new OrderRefunded(occurredAt, CancellationRefundId, state.Refundable, cancel.Reason!));
            case CancelOrder cancel:
                return OrderDecision.Append(new OrderCancelled(occurredAt, cancel.Reason!));
            case RefundOrder refund when refund.Amount > state.Refundable:
                return OrderDecision.Refuse(
                    CommandErrorCode.Unprocessable,
                    string.Create(CultureInfo.InvariantCulture, $"The refund of {refund.Amount} exceeds what is left to refund: {state.Refundable} {state.Currency}."));
            case RefundOrder refund:
                return OrderDecision.Append(new OrderRefunded(occurredAt, refund.RefundId!, refund.Amount!.Value, refund.Reason!));
            default:
                throw new InvalidOperationException($"No rule decides {command.GetType().Name}.");
        }
    }

    /// <summary>Event time (<see cref="EventTimes.Of"/>): never before the order's previous event unless given.</summary>
    public static DateTimeOffset EventTime(OrderCommand command, DateTimeOffset now, OrderState state) =>
        EventTimes.Of(command.OccurredAt, now, state.Exists ? state.UpdatedAt : null);

    private static OrderDecision Place(string orderId, PlaceOrder place, DateTimeOffset occurredAt)
    {
        var items = place.Items!
            .Select(item => new OrderLine(item.Sku!, item.Quantity!.Value, item.UnitPrice!.Value))
            .ToImmutableArray();
        var address = place.ShippingAddress is { } given
            ? new ShippingAddress(given.Recipient!, given.Line1!, given.Line2, given.City!, given.PostalCode!, given.Country!)
            : null;
        return OrderDecision.Append(new OrderPlaced(
            occurredAt, orderId, place.CustomerId!, place.Currency!, items, items.Sum(line => line.Quantity * line.UnitPrice), address));
    }

    private static OrderDecision? Repeat(OrderState state, OrderCommand command, decimal? recordedRefund) => command switch
    {
        PayOrder pay when state.PaymentId is not null && pay.PaymentId == state.PaymentId =>
            pay.Amount == state.Paid
                ? OrderDecision.Applied
                : OrderDecision.Refuse(CommandErrorCode.Unprocessable, string.Create(CultureInfo.InvariantCulture, $"Payment '{pay.PaymentId}' was already recorded with amount {state.Paid}.")),
        RefundOrder refund when (recordedRefund ?? RecordedWithoutRow(state, refund.RefundId!)) is { } amount =>
            refund.Amount == amount
                ? OrderDecision.Applied
                : OrderDecision.Refuse(CommandErrorCode.Unprocessable, string.Create(CultureInfo.InvariantCulture, $"Refund '{refund.RefundId}' was already recorded with amount {amount}.")),
        _ => null,
    };

    private static decimal? RecordedWithoutRow(OrderState state, string refundId) =>
        state.RefundsWithoutRows.TryGetValue(refundId, out var amount) ? amount : null;

    private static string Verb(OrderCommand command) => command switch
    {
        PayOrder => "paid",
        ShipOrder => "shipped",
        DeliverOrder => "delivered",
        CancelOrder => "cancelled",
        RefundOrder => "refunded",
        _ => "changed",
    };
}
