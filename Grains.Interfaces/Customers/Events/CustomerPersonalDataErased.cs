using OrderFlow.EventTypes;

namespace OrderFlow.Customers.Events;

/// <summary>
/// The customer's personal data was erased (GDPR article 17) by deleting their key: the audit
/// record of who asked and when. It carries no personal data itself.
/// </summary>
/// <param name="ErasedBy">The caller's identity as the API authenticated it (key name or token subject).</param>
[GenerateSerializer, Immutable, Alias("orderflow.customer-personal-data-erased"), StoredEvent(CustomerPersonalDataErased.StoredName)]
public sealed record CustomerPersonalDataErased(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string ErasedBy) : CustomerEvent(OccurredAt)
{
    /// <summary>The name stored in the log's Type column: never changes (existing rows carry it).</summary>
    public const string StoredName = "CustomerPersonalDataErased";
}
