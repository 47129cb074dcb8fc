using System.Collections.Immutable;
using OrderFlow.EventTypes;
using OrderFlow.PersonalData;

namespace OrderFlow.Orders.Events;

/// <summary>The order was placed: the first event of every order.</summary>
/// <remarks>
/// Schema versions: 1 without <see cref="ShippingAddress"/>; 2 with it, optional (its upcaster
/// reads version 1 as an order without an address).
/// </remarks>
[GenerateSerializer, Immutable, Alias("orderflow.order-placed"), StoredEvent(OrderPlaced.StoredName, schemaVersion: 2)]
public sealed record OrderPlaced(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string OrderId,
    [property: Id(1)] string CustomerId,
    [property: Id(2)] string Currency,
    [property: Id(3)] ImmutableArray<OrderLine> Items,
    [property: Id(4)] decimal Total,
    [property: Id(5), PersonalData] ShippingAddress? ShippingAddress = null) : OrderEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "OrderPlaced";
}
