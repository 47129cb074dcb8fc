using System.Collections.Immutable;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;

namespace OrderFlow.Streams;

/// <summary>
/// A confirmed order event as published to projections: identity (order id + version) for
/// de-duplication, event time for bucketing, and every fact a consumer needs so that no consumer
/// has to look anything up per order.
/// </summary>
/// <param name="Type">The event's stored name (<c>OrderPaid</c>…, as its type declares it in <see cref="OrderFlow.EventTypes.StoredEventAttribute"/>): projections compare it with the event types' <c>StoredName</c> constants, never with CLR names.</param>
/// <param name="Amount">The money the event moves: the total when placed, the payment when paid, the refund when refunded; 0 otherwise.</param>
/// <param name="Items">The order's lines (on placed and paid events; empty otherwise).</param>
/// <param name="StatusBefore">The order's status before the event.</param>
/// <param name="StatusAfter">The order's status after it: an event "enters" a status when the two differ.</param>
/// <param name="SecondsSincePlaced">On a payment: event-time seconds since placement.</param>
/// <param name="SecondsSincePaid">On a shipment: seconds since payment.</param>
/// <param name="SecondsSinceShipped">On a delivery: seconds since shipment.</param>
/// <param name="RecordedAt">When the log recorded the event (null from publishers older than this field): the start of the projections' lag.</param>
/// <param name="TraceParent">
/// The W3C <c>traceparent</c> of the publication (null when nothing traced it), so that the
/// projections' span joins the command's trace on whichever silo, and whenever, they run.
/// </param>
[GenerateSerializer, Immutable, Alias("orderflow.order-event-envelope")]
public sealed record OrderEventEnvelope(
    [property: Id(0)] string OrderId,
    [property: Id(1)] int Version,
    [property: Id(2)] Guid EventId,
    [property: Id(3)] string Type,
    [property: Id(4)] DateTimeOffset OccurredAt,
    [property: Id(5)] string CustomerId,
    [property: Id(6)] string Currency,
    [property: Id(7)] decimal OrderTotal,
    [property: Id(8)] decimal Amount,
    [property: Id(9)] ImmutableArray<OrderLine> Items,
    [property: Id(10)] OrderStatus StatusBefore,
    [property: Id(11)] OrderStatus StatusAfter,
    [property: Id(12)] double? SecondsSincePlaced,
    [property: Id(13)] double? SecondsSincePaid,
    [property: Id(14)] double? SecondsSinceShipped,
    [property: Id(15)] DateTimeOffset? RecordedAt = null,
    [property: Id(16)] string? TraceParent = null)
{
    /// <summary>True when the event moved the order into a new status.</summary>
    public bool EntersStatus => StatusAfter != StatusBefore;
}
