using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Orders;

/// <summary>Turns confirmed order events into the envelopes that projections consume.</summary>
public static class OrderEventEnvelopes
{
    /// <summary>
    /// Envelopes for <paramref name="events"/>, which follow <paramref name="before"/> (the state
    /// at version <paramref name="firstVersion"/> − 1) and carry the ids in <paramref name="eventIds"/>.
    /// </summary>
    public static List<OrderEventEnvelope> Build(OrderState before, IReadOnlyList<OrderEvent> events, int firstVersion, IReadOnlyList<Guid> eventIds)
    {
        var state = before.Copy(); // constant time: the envelopes need the order's facts, not its history
        var envelopes = new List<OrderEventEnvelope>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var @event = events[i];
            var statusBefore = state.Status;
            var placedAt = state.PlacedAt;
            var paidAt = state.PaidAt;
            var shippedAt = state.ShippedAt;
            state.Apply(@event);
            envelopes.Add(new OrderEventEnvelope(
                state.OrderId,
                firstVersion + i,
                eventIds[i],
                OrderEventSerializer.TypeName(@event),
                @event.OccurredAt,
                state.CustomerId,
                state.Currency,
                state.Total,
                @event switch
                {
                    OrderPlaced placed => placed.Total,
                    OrderPaid paid => paid.Amount,
                    OrderRefunded refunded => refunded.Amount,
                    OrderShipped or OrderDelivered or OrderCancelled => 0m,
                    _ => throw new InvalidOperationException($"{@event.GetType().Name} has no envelope mapping: say what money it moves."),
                },
                @event is OrderPlaced or OrderPaid ? [.. state.Items] : [],
                statusBefore,
                state.Status,
                @event is OrderPaid ? Seconds(placedAt, @event.OccurredAt) : null,
                @event is OrderShipped && paidAt is { } paid1 ? Seconds(paid1, @event.OccurredAt) : null,
                @event is OrderDelivered && shippedAt is { } shipped ? Seconds(shipped, @event.OccurredAt) : null));
        }

        return envelopes;
    }

    /// <summary>Envelopes for events of order <paramref name="orderId"/> read back from the log, which follow <paramref name="before"/>.</summary>
    public static List<OrderEventEnvelope> FromStored(string orderId, OrderState before, IReadOnlyList<StoredEvent> stored) =>
        OrderEventSource.Instance.FromStored(orderId, before, stored);

    /// <summary>
    /// Envelopes for the order's stored events after <paramref name="afterVersion"/>, read back from
    /// the log: what a republish or a reconciliation delivers.
    /// </summary>
    public static Task<List<OrderEventEnvelope>> ReadAfterAsync(TableEventStore store, string orderId, int afterVersion, int maxCount = int.MaxValue) =>
        OrderEventSource.Instance.ReadAfterAsync(store, orderId, afterVersion, maxCount);

    private static double Seconds(DateTimeOffset from, DateTimeOffset to) => Math.Max(0, (to - from).TotalSeconds);
}
