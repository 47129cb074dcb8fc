namespace OrderFlow.Streams;

/// <summary>
/// A confirmed customer event as published to projections: identity (customer id + version) for
/// de-duplication, event time, and the facts consumers need. Never personal data.
/// </summary>
/// <param name="Type">The event's stored name (its <see cref="OrderFlow.EventTypes.StoredEventAttribute"/>).</param>
/// <param name="Country">The customer's country after the event.</param>
/// <param name="RegisteredAt">The event time of the customer's registration (the join key of risk rules by account age); default for a data subject who never registered (see <see cref="IsRegistered"/>).</param>
/// <param name="RecordedAt">When the log recorded the event: the start of the projections' lag.</param>
/// <param name="TraceParent">The W3C <c>traceparent</c> of the publication, when traced.</param>
[GenerateSerializer, Immutable, Alias("orderflow.customer-event-envelope")]
public sealed record CustomerEventEnvelope(
    [property: Id(0)] string CustomerId,
    [property: Id(1)] int Version,
    [property: Id(2)] Guid EventId,
    [property: Id(3)] string Type,
    [property: Id(4)] DateTimeOffset OccurredAt,
    [property: Id(5)] string Country,
    [property: Id(6)] DateTimeOffset RegisteredAt,
    [property: Id(7)] DateTimeOffset? RecordedAt = null,
    [property: Id(8)] string? TraceParent = null)
{
    /// <summary>False for the events of a data subject erased without ever registering (their log starts with the erasure): <see cref="RegisteredAt"/> is then no registration.</summary>
    public bool IsRegistered => RegisteredAt != default;
}
