namespace OrderFlow.Grains.Projections;

/// <summary>What <see cref="IProjectionInput{TEnvelope}.IngestAndPersist"/> made of the events it was sent, by position in them.</summary>
/// <param name="Counted">Events counted for the first time by this call (the rest were counted already, or failed): what a reconciliation really repaired.</param>
/// <param name="Failed">
/// Events the projection could not count (it threw), and the later events of their streams in the
/// same call, left uncounted so that a stream is always counted in order: retried from the log, and parked while they keep failing.
/// </param>
/// <param name="Error">Why the first of <paramref name="Failed"/> could not be counted; null when none failed.</param>
[GenerateSerializer, Alias("orderflow.ingest-outcome")]
public sealed record IngestOutcome(
    [property: Id(0)] int[] Counted,
    [property: Id(1)] int[] Failed,
    [property: Id(2)] string? Error);
