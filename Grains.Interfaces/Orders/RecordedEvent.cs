namespace OrderFlow.Orders;

/// <summary>One event of an order's log as stored, with its metadata; <see cref="Data"/> is the event's JSON.</summary>
/// <param name="Data">The event's JSON, personal members decrypted; those of an erased subject are null.</param>
/// <param name="PersonalDataErased">Some personal members of <see cref="Data"/> were erased (their subject's key was deleted).</param>
[GenerateSerializer, Immutable, Alias("orderflow.recorded-event")]
public sealed record RecordedEvent(
    [property: Id(0)] int Version,
    [property: Id(1)] Guid EventId,
    [property: Id(2)] string Type,
    [property: Id(3)] int SchemaVersion,
    [property: Id(4)] DateTimeOffset OccurredAt,
    [property: Id(5)] DateTimeOffset RecordedAt,
    [property: Id(6)] string? CorrelationId,
    [property: Id(7)] string? CausationId,
    [property: Id(8)] string Data,
    [property: Id(9)] bool PersonalDataErased = false);
