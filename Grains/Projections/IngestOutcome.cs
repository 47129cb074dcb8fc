namespace OrderFlow.Grains.Projections;

/// <summary>What <see cref="IProjectionInput{TEnvelope}.IngestAndPersist"/> made of the events it was sent, by position in them.</summary>
/// <param name="Counted">Events counted for the first time by this call (the rest were counted already, or failed): what a reconciliation really repaired.</param>
/// <param name="Failed">
/// Events the projection could not count (its count threw), and the later events of their streams
/// in the same call, left uncounted so that a stream is counted in order: parked and retried from the log.
/// </param>
/// <param name="Reasons">Why, for each event of <paramref name="Failed"/> whose count threw (not the later ones of its stream); null when none did.</param>
[GenerateSerializer, Alias("orderflow.ingest-outcome")]
public sealed record IngestOutcome(
    [property: Id(0)] int[] Counted,
    [property: Id(1)] int[] Failed,
    [property: Id(3)] Dictionary<int, string>? Reasons);
