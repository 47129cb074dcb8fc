using OrderFlow.PersonalData;

namespace OrderFlow.Customers;

/// <summary>A customer as they stand at <see cref="Version"/>: what the API returns.</summary>
/// <param name="Name">Null once the customer's personal data was erased (<see cref="Erased"/>).</param>
/// <param name="Email">Null once the customer's personal data was erased.</param>
/// <param name="Country">Null for a data subject who never registered (erased on their orders' account alone).</param>
/// <param name="RegisteredAt">Null for a data subject who never registered.</param>
/// <param name="Erased">True when the customer's key was deleted: personal fields can no longer be read.</param>
[GenerateSerializer, Immutable, Alias("orderflow.customer-view")]
public sealed record CustomerView(
    [property: Id(0)] string CustomerId,
    [property: Id(1), PersonalData] string? Name,
    [property: Id(2), PersonalData] string? Email,
    [property: Id(3)] string? Country,
    [property: Id(4)] int Version,
    [property: Id(5)] DateTimeOffset? RegisteredAt,
    [property: Id(6)] DateTimeOffset UpdatedAt,
    [property: Id(7)] bool Erased = false);
