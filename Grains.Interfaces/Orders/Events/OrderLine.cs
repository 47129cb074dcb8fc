namespace OrderFlow.Orders.Events;

/// <summary>One line of an order: a product, how many, at what unit price (in the order's currency).</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-line")]
public sealed record OrderLine(
    [property: Id(0)] string Sku,
    [property: Id(1)] int Quantity,
    [property: Id(2)] decimal UnitPrice);
