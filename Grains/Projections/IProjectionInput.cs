namespace OrderFlow.Grains.Projections;

/// <summary>
/// What a projection grain takes from one stream category. A grain that consumes two categories
/// implements this interface once for each envelope type; the registry reaches it by its grain type
/// and key (<see cref="ProjectionRegistry"/>).
/// </summary>
public interface IProjectionInput<TEnvelope> : IGrainWithStringKey
{
    /// <summary>
    /// Counts each event once, in any order and with repeats, in memory; persisted at the next
    /// flush (what live delivery sends: one call per projection grain per stream batch). When it
    /// returns, every event is counted, so the stream may acknowledge them. An event that cannot be
    /// counted is logged and skipped, so that one bad record does not hold up the others: the
    /// reconciliation parks it if it keeps failing.
    /// </summary>
    Task IngestBatch(IReadOnlyList<TEnvelope> envelopes);

    /// <summary>
    /// Counts each event once and persists before returning, or throws: when it returns, every one
    /// of the events is durably counted but those it lists as failed. What a rebuild and a
    /// reconciliation feed through, because a separate flush could reach a new activation that never
    /// saw the events (the old one died or was collected in between) and succeed without them. An
    /// event that cannot be counted fails only itself and the rest of its stream in the call, not
    /// the others: one bad record does not hold up a day's or a customer's events.
    /// </summary>
    Task<IngestOutcome> IngestAndPersist(IReadOnlyList<TEnvelope> envelopes);
}
