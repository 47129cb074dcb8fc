using OrderFlow.Streams;
using Orleans.Runtime;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>A projection that counts in memory and persists in batches (see <see cref="WriteBehindProjectionGrain"/>).</summary>
public interface IWriteBehindProjection : IGrainWithStringKey
{
    /// <summary>Counts the event once, however often it is delivered; persisted at the next flush.</summary>
    Task Ingest(OrderEventEnvelope envelope);

    /// <summary>
    /// Counts each event once and persists before returning, or throws: when it returns, every one
    /// of the events is durably counted. What a rebuild and a reconciliation feed through, because
    /// a separate <see cref="Flush"/> could reach a new activation that never saw the events (the
    /// old one died or was collected in between) and succeed without them.
    /// </summary>
    /// <returns>
    /// The positions in <paramref name="envelopes"/> of the events this call counted for the
    /// first time (the rest were counted already): what a reconciliation really repaired.
    /// </returns>
    Task<int[]> IngestAndPersist(IReadOnlyList<OrderEventEnvelope> envelopes);

    /// <summary>Persists what this activation counted now, instead of at the next tick; throws if that failed.</summary>
    Task Flush();
}
