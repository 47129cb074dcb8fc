using OrderFlow.Grains.Projections.Consumers;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Feed;

/// <summary>
/// Feeds customer envelopes read from the customers' log (by a rebuild or a reconciliation) to
/// the customers' projections, in batches, as <see cref="ProjectionFeed"/> does for orders: a
/// send uses <see cref="ICustomerStatsGrain.IngestCustomerEventsAndPersist"/>, so that when it
/// returns everything in it is durably counted. Unlike orders, a failing grain fails the send
/// (nothing is parked): the rebuild fails, or the reconciliation keeps the change rows and tries
/// again at its next pass. Used from within one grain call; not thread-safe.
/// </summary>
internal sealed class CustomerEventFeed(IGrainFactory grains)
{
    /// <summary>Projection grains sent to at once.</summary>
    private const int Parallelism = 32;

    private readonly Dictionary<(string CustomerId, int Generation), List<CustomerEventEnvelope>> pending = [];
    private readonly HashSet<(string CustomerId, int Version, int Generation)> repaired = [];
    private int buffered;

    /// <summary>Envelopes durably counted (one per envelope and generation).</summary>
    public long Persisted { get; private set; }

    /// <summary>Envelopes that the projection had not counted before this feed (one per envelope and generation).</summary>
    public long Repaired => repaired.Count;

    public async Task AddAsync(CustomerEventEnvelope envelope, int generation)
    {
        var key = (envelope.CustomerId, generation);
        if (!pending.TryGetValue(key, out var envelopes))
        {
            pending[key] = envelopes = [];
        }

        envelopes.Add(envelope);
        if (++buffered >= ProjectionFeed.BatchSize)
        {
            await CompleteAsync();
        }
    }

    /// <summary>Sends what is buffered; throws when a projection failed to count and persist its envelopes.</summary>
    public async Task CompleteAsync()
    {
        foreach (var chunk in pending.Chunk(Parallelism))
        {
            await Task.WhenAll(chunk.Select(async target =>
            {
                var envelopes = target.Value;
                var grain = CustomerEventsConsumerGrain.ProjectionOf(grains, envelopes[0], target.Key.Generation);
                foreach (var position in await grain.IngestCustomerEventsAndPersist(envelopes))
                {
                    repaired.Add((envelopes[position].CustomerId, envelopes[position].Version, target.Key.Generation));
                }
            }));
            Persisted += chunk.Sum(target => target.Value.Count);
        }

        pending.Clear();
        buffered = 0;
    }
}
