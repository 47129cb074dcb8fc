using System.Text.Json.Serialization;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// An order's state: a left fold of its events through <see cref="Apply"/>. Mutable because
/// JournaledGrain folds in place; serialized as JSON in snapshots, hence public setters. Its size
/// does not grow with the order's history: what does (the refund ids) has a row per item in the
/// order's partition instead (see <see cref="RefundsWithoutRows"/>).
/// </summary>
[GenerateSerializer, Alias("orderflow.order-state")]
public sealed class OrderState : IEventSourcedState<OrderState, OrderEvent>
{
    [Id(0)] public string OrderId { get; set; } = string.Empty;
    [Id(1)] public string CustomerId { get; set; } = string.Empty;
    [Id(2)] public OrderStatus Status { get; set; }
    [Id(3)] public string Currency { get; set; } = string.Empty;
    [Id(4)] public List<OrderLine> Items { get; set; } = [];
    [Id(5)] public decimal Total { get; set; }
    [Id(6)] public decimal Paid { get; set; }
    [Id(7)] public decimal Refunded { get; set; }
    [Id(8)] public string? PaymentId { get; set; }

    /// <summary>
    /// Refund id → amount of the refunds that may have no refund row: those written by builds before
    /// refund rows existed (whose snapshots hold every refund under the same name), and those folded
    /// from events after such a snapshot or without one. Every other refund id is recognised by its
    /// row. Filled by <see cref="Fold"/> only, never by <see cref="Apply"/>, so it stops growing once an
    /// order has a snapshot of <see cref="OrderEventSerializer.SnapshotSchemaVersion"/>.
    /// </summary>
    [Id(9)]
    [JsonPropertyName("refunds")]
    public Dictionary<string, decimal> RefundsWithoutRows { get; set; } = [];

    [Id(10)] public DateTimeOffset PlacedAt { get; set; }

    /// <summary>Event time of the latest event: a new event may not be earlier.</summary>
    [Id(11)] public DateTimeOffset UpdatedAt { get; set; }

    [Id(12)] public DateTimeOffset? PaidAt { get; set; }
    [Id(13)] public DateTimeOffset? ShippedAt { get; set; }
    [Id(14)] public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>Absent in snapshots written before schema version 2 of OrderPlaced: those orders had none.</summary>
    [Id(15), PersonalData] public ShippingAddress? ShippingAddress { get; set; }

    public bool Exists => Status != OrderStatus.None;

    /// <summary>The state a slice of the log describes: its snapshot, then its events applied in order.</summary>
    public static OrderState Fold(StreamSlice slice)
    {
        var state = slice.Snapshot is { } snapshot ? OrderEventSerializer.DeserializeState(snapshot.Data, slice.Revealed) : new OrderState();
        var refundsHaveRows = slice.Snapshot is { SchemaVersion: >= OrderEventSerializer.SnapshotSchemaVersion };
        foreach (var stored in slice.Events)
        {
            var @event = OrderEventSerializer.Deserialize(stored.Type, stored.SchemaVersion, stored.Data, slice.Revealed);
            state.Apply(@event);
            if (!refundsHaveRows && @event is OrderRefunded refunded)
            {
                state.RefundsWithoutRows[refunded.RefundId] = refunded.Amount;
            }
        }

        return state;
    }

    /// <summary>
    /// A copy that folds on independently, in constant time: <see cref="Apply"/> replaces collections
    /// and never changes one, so the copy may share them.
    /// </summary>
    public OrderState Copy() => (OrderState)MemberwiseClone();

    /// <summary>What can still be refunded: paid minus refunded.</summary>
    public decimal Refundable => Paid - Refunded;

    public void Apply(OrderEvent @event)
    {
        switch (@event)
        {
            case OrderPlaced placed:
                OrderId = placed.OrderId;
                CustomerId = placed.CustomerId;
                Currency = placed.Currency;
                Items = [.. placed.Items];
                Total = placed.Total;
                PlacedAt = placed.OccurredAt;
                ShippingAddress = placed.ShippingAddress;
                Status = OrderStatus.Placed;
                break;
            case OrderPaid paid:
                PaymentId = paid.PaymentId;
                Paid += paid.Amount;
                PaidAt = paid.OccurredAt;
                Status = OrderStatus.Paid;
                break;
            case OrderShipped shipped:
                ShippedAt = shipped.OccurredAt;
                Status = OrderStatus.Shipped;
                break;
            case OrderDelivered delivered:
                DeliveredAt = delivered.OccurredAt;
                Status = OrderStatus.Delivered;
                break;
            case OrderCancelled:
                Status = OrderStatus.Cancelled;
                break;
            case OrderRefunded refunded:
                Refunded += refunded.Amount;
                if (Status == OrderStatus.Delivered && Refunded >= Paid)
                {
                    Status = OrderStatus.Refunded;
                }

                break;
            default:
                throw new InvalidOperationException($"OrderState cannot apply {@event.GetType().Name}.");
        }

        UpdatedAt = @event.OccurredAt;
    }

    public OrderView ToView(int version) => new(
        OrderId, CustomerId, Status, Currency, [.. Items], Total, Paid, Refunded, version, PlacedAt, UpdatedAt, ShippingAddress);
}
