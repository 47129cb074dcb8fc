using OrderFlow.EventTypes;
using OrderFlow.PersonalData;

namespace OrderFlow.Customers.Events;

/// <summary>The customer changed some of their profile; a null member is unchanged.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.customer-profile-changed"), StoredEvent(CustomerProfileChanged.StoredName)]
public sealed record CustomerProfileChanged(
    DateTimeOffset OccurredAt,
    [property: Id(0), PersonalData] string? Name,
    [property: Id(1), PersonalData] string? Email,
    [property: Id(2)] string? Country) : CustomerEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "CustomerProfileChanged";
}
