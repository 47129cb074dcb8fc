using OrderFlow.EventTypes;

namespace OrderFlow.Orders.Events;

/// <summary>The customer received the order.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-delivered"), StoredEvent(OrderDelivered.StoredName)]
public sealed record OrderDelivered(DateTimeOffset OccurredAt) : OrderEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "OrderDelivered";
}
