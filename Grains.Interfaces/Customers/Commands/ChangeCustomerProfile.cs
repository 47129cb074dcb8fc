using OrderFlow.PersonalData;

namespace OrderFlow.Customers.Commands;

/// <summary>Change some of a customer's profile: at least one member; a null member is left as it is.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.change-customer-profile")]
public sealed record ChangeCustomerProfile(
    [property: Id(0), PersonalData] string? Name,
    [property: Id(1), PersonalData] string? Email,
    [property: Id(2)] string? Country,
    DateTimeOffset? OccurredAt = null) : CustomerCommand(OccurredAt);
