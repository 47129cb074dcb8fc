namespace OrderFlow.Orders.Events;

/// <summary>The customer received the order.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-delivered")]
public sealed record OrderDelivered(DateTimeOffset OccurredAt) : OrderEvent(OccurredAt);
