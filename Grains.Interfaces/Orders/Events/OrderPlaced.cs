using System.Collections.Immutable;

namespace OrderFlow.Orders.Events;

/// <summary>The order was placed: the first event of every order.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-placed")]
public sealed record OrderPlaced(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string OrderId,
    [property: Id(1)] string CustomerId,
    [property: Id(2)] string Currency,
    [property: Id(3)] ImmutableArray<OrderLine> Items,
    [property: Id(4)] decimal Total) : OrderEvent(OccurredAt);
