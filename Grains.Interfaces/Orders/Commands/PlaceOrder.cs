using OrderFlow.PersonalData;

namespace OrderFlow.Orders.Commands;

/// <summary>Place a new order. <see cref="OrderId"/> must equal the id of the grain it is sent to.</summary>
/// <param name="ShippingAddress">Optional: where to deliver (personal data).</param>
[GenerateSerializer, Immutable, Alias("orderflow.place-order")]
public sealed record PlaceOrder(
    [property: Id(0)] string? OrderId,
    [property: Id(1)] string? CustomerId,
    [property: Id(2)] string? Currency,
    [property: Id(3)] IReadOnlyList<OrderLineRequest>? Items,
    DateTimeOffset? OccurredAt = null,
    [property: Id(4), PersonalData] ShippingAddressRequest? ShippingAddress = null) : OrderCommand(OccurredAt);
