using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>
/// Feeds envelopes read from the log (by a rebuild or a reconciliation) to the projections, in
/// batches: envelopes are gathered per projection grain and sent with
/// <see cref="IWriteBehindProjection.IngestAndPersist"/> once <see cref="BatchSize"/> are
/// buffered, and at <see cref="CompleteAsync"/>. When a send returns, everything in it is durably
/// counted; any failure propagates. Used from within one grain call; not thread-safe.
/// </summary>
internal sealed class ProjectionFeed(IGrainFactory grains)
{
    /// <summary>Envelope-projections buffered before they are sent: bounds memory and the grains one send touches.</summary>
    public const int BatchSize = 2_000;

    /// <summary>Projection grains sent to at once.</summary>
    private const int Parallelism = 32;

    private readonly Dictionary<string, (IWriteBehindProjection Grain, List<OrderEventEnvelope> Envelopes)> pending = new(StringComparer.Ordinal);
    private int buffered;

    /// <summary>Envelopes durably counted by every projection of their generation (one per envelope and generation).</summary>
    public long Persisted { get; private set; }

    /// <summary>Adds the envelope for every projection of <paramref name="generation"/>; returns true when that completed a batch, which was sent.</summary>
    public async Task<bool> AddAsync(OrderEventEnvelope envelope, int generation)
    {
        foreach (var (key, grain) in OrderEventsConsumerGrain.ProjectionsOf(grains, envelope, generation))
        {
            if (!pending.TryGetValue(key, out var target))
            {
                pending[key] = target = (grain, []);
            }

            target.Envelopes.Add(envelope);
        }

        if (++buffered < BatchSize)
        {
            return false;
        }

        await SendAsync();
        return true;
    }

    /// <summary>Sends what is buffered.</summary>
    public Task CompleteAsync() => SendAsync();

    private async Task SendAsync()
    {
        foreach (var chunk in pending.Values.Chunk(Parallelism))
        {
            await Task.WhenAll(chunk.Select(target => target.Grain.IngestAndPersist(target.Envelopes)));
        }

        pending.Clear();
        Persisted += buffered;
        buffered = 0;
    }
}
