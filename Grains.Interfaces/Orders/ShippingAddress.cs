namespace OrderFlow.Orders;

/// <summary>Where an order is to be delivered: personal data of the recipient.</summary>
/// <param name="Line2">The optional second address line.</param>
/// <param name="Country">ISO 3166-1 alpha-2, upper case (DE, FR, GB…).</param>
[GenerateSerializer, Immutable, Alias("orderflow.shipping-address")]
public sealed record ShippingAddress(
    [property: Id(0)] string Recipient,
    [property: Id(1)] string Line1,
    [property: Id(2)] string? Line2,
    [property: Id(3)] string City,
    [property: Id(4)] string PostalCode,
    [property: Id(5)] string Country);
