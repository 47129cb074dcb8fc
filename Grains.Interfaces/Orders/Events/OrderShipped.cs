namespace OrderFlow.Orders.Events;

/// <summary>The order left the warehouse.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-shipped")]
public sealed record OrderShipped(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string Carrier,
    [property: Id(1)] string TrackingNumber) : OrderEvent(OccurredAt);
