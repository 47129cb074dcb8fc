using System.ComponentModel;

namespace OrderFlow.Orders.Commands;

/// <summary>A shipping address as the client sent it (API.md "Input rules").</summary>
[GenerateSerializer, Immutable, Alias("orderflow.shipping-address-request")]
public sealed record ShippingAddressRequest(
    [property: Id(0), Description("Who receives the order: required, text of at most 200 characters.")] string? Recipient,
    [property: Id(1), Description("The first address line: required, text of at most 200 characters.")] string? Line1,
    [property: Id(2), Description("An optional second address line: when given, text of at most 200 characters.")] string? Line2,
    [property: Id(3), Description("Required, text of at most 200 characters.")] string? City,
    [property: Id(4), Description("Required: 1–16 letters, digits, spaces and '-'.")] string? PostalCode,
    [property: Id(5), Description("Required: an ISO 3166-1 alpha-2 code in upper case (DE, FR, GB…).")] string? Country);
