using OrderFlow.EventTypes;

namespace OrderFlow.Orders.Events;

/// <summary>
/// The order was cancelled before shipping. A paid order is refunded in full by an
/// <see cref="OrderRefunded"/> recorded in the same transaction.
/// </summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-cancelled"), StoredEvent(OrderCancelled.StoredName)]
public sealed record OrderCancelled(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string Reason) : OrderEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "OrderCancelled";
}
