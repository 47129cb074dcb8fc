using OrderFlow.EventTypes;

namespace OrderFlow.Orders.Events;

/// <summary>The order left the warehouse.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-shipped"), StoredEvent(OrderShipped.StoredName)]
public sealed record OrderShipped(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string Carrier,
    [property: Id(1)] string TrackingNumber) : OrderEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "OrderShipped";
}
