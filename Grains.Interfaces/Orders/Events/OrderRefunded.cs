using OrderFlow.EventTypes;

namespace OrderFlow.Orders.Events;

/// <summary>Money went back to the customer: part of a delivered order, or all of a cancelled paid one.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-refunded"), StoredEvent(OrderRefunded.StoredName)]
public sealed record OrderRefunded(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string RefundId,
    [property: Id(1)] decimal Amount,
    [property: Id(2)] string Reason) : OrderEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "OrderRefunded";
}
