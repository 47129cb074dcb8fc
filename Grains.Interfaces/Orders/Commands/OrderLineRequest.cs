namespace OrderFlow.Orders.Commands;

/// <summary>An order line as the client sent it.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-line-request")]
public sealed record OrderLineRequest(
    [property: Id(0)] string? Sku,
    [property: Id(1)] int? Quantity,
    [property: Id(2)] decimal? UnitPrice);
