using System.Collections.Immutable;
using System.Text.Json.Serialization;
using OrderFlow.Orders.Events;
using OrderFlow.PersonalData;

namespace OrderFlow.Orders;

/// <summary>An order as it stands at <see cref="Version"/>: what the API returns.</summary>
/// <param name="ShippingAddress">Where to deliver, when the order was placed with an address (null once erased).</param>
/// <param name="PersonalDataErased">
/// The order's personal data (its shipping address) was erased with its customer's key (GDPR
/// article 17); only shown when true.
/// </param>
[GenerateSerializer, Immutable, Alias("orderflow.order-view")]
public sealed record OrderView(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string CustomerId,
    [property: Id(2)] OrderStatus Status,
    [property: Id(3)] string Currency,
    [property: Id(4)] ImmutableArray<OrderLine> Items,
    [property: Id(5)] decimal Total,
    [property: Id(6)] decimal Paid,
    [property: Id(7)] decimal Refunded,
    [property: Id(8)] int Version,
    [property: Id(9)] DateTimeOffset PlacedAt,
    [property: Id(10)] DateTimeOffset UpdatedAt,
    [property: Id(11), PersonalData] ShippingAddress? ShippingAddress = null,
    [property: Id(12), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool PersonalDataErased = false);
