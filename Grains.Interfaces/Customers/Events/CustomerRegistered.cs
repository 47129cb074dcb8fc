using OrderFlow.EventTypes;
using OrderFlow.PersonalData;

namespace OrderFlow.Customers.Events;

/// <summary>The customer registered: the first event of every customer.</summary>
/// <param name="Name">Personal data: stored encrypted with the customer's key.</param>
/// <param name="Email">Personal data: stored encrypted with the customer's key.</param>
/// <param name="Country">ISO 3166-1 alpha-2, upper case: not personal on its own, and what risk rules may use.</param>
[GenerateSerializer, Immutable, Alias("orderflow.customer-registered"), StoredEvent(CustomerRegistered.StoredName)]
public sealed record CustomerRegistered(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string CustomerId,
    [property: Id(1), PersonalData] string Name,
    [property: Id(2), PersonalData] string Email,
    [property: Id(3)] string Country) : CustomerEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "CustomerRegistered";
}
