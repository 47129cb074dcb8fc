namespace OrderFlow.Orders.Commands;

/// <summary>A shipping address as the client sent it (API.md "Input rules").</summary>
[GenerateSerializer, Immutable, Alias("orderflow.shipping-address-request")]
public sealed record ShippingAddressRequest(
    [property: Id(0)] string? Recipient,
    [property: Id(1)] string? Line1,
    [property: Id(2)] string? Line2,
    [property: Id(3)] string? City,
    [property: Id(4)] string? PostalCode,
    [property: Id(5)] string? Country);
