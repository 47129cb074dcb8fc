using OrderFlow.EventTypes;

namespace OrderFlow.Orders.Events;

/// <summary>The order was paid in full.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-paid"), StoredEvent(OrderPaid.StoredName)]
public sealed record OrderPaid(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string PaymentId,
    [property: Id(1)] decimal Amount,
    [property: Id(2)] string Method) : OrderEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "OrderPaid";
}
