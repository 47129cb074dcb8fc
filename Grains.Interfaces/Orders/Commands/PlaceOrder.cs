using System.Text.Json.Serialization;
using OrderFlow.PersonalData;

namespace OrderFlow.Orders.Commands;

/// <summary>Place a new order. <see cref="OrderId"/> must equal the id of the grain it is sent to.</summary>
/// <param name="ShippingAddress">
/// Optional: where to deliver (personal data). Left out of the command's JSON when absent, so that the
/// request hash of a placement without one is what it was before addresses existed, and a retry
/// with an Idempotency-Key recorded by an earlier build is still recognised.
/// </param>
[GenerateSerializer, Immutable, Alias("orderflow.place-order")]
public sealed record PlaceOrder(
    [property: Id(0)] string? OrderId,
    [property: Id(1)] string? CustomerId,
    [property: Id(2)] string? Currency,
    [property: Id(3)] IReadOnlyList<OrderLineRequest>? Items,
    DateTimeOffset? OccurredAt = null,
    [property: Id(4), PersonalData, JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ShippingAddressRequest? ShippingAddress = null) : OrderCommand(OccurredAt);
