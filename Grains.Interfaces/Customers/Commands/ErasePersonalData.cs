namespace OrderFlow.Customers.Commands;

/// <summary>
/// Erase the customer's personal data (an administrator's request): records
/// <see cref="Events.CustomerPersonalDataErased"/> and deletes the customer's key. Idempotent.
/// </summary>
/// <param name="ErasedBy">Who asked, as the API authenticated them.</param>
[GenerateSerializer, Immutable, Alias("orderflow.erase-personal-data")]
public sealed record ErasePersonalData(
    [property: Id(0)] string? ErasedBy,
    DateTimeOffset? OccurredAt = null) : CustomerCommand(OccurredAt);
