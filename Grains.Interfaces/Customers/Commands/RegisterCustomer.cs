using OrderFlow.PersonalData;

namespace OrderFlow.Customers.Commands;

/// <summary>Register a new customer. <see cref="CustomerId"/> must equal the id of the grain it is sent to.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.register-customer")]
public sealed record RegisterCustomer(
    [property: Id(0)] string? CustomerId,
    [property: Id(1), PersonalData] string? Name,
    [property: Id(2), PersonalData] string? Email,
    [property: Id(3)] string? Country,
    DateTimeOffset? OccurredAt = null) : CustomerCommand(OccurredAt);
