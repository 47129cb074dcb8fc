namespace OrderFlow.Orders.Events;

/// <summary>
/// The order was cancelled before shipping. A paid order is refunded in full by an
/// <see cref="OrderRefunded"/> recorded in the same transaction.
/// </summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-cancelled")]
public sealed record OrderCancelled(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string Reason) : OrderEvent(OccurredAt);
