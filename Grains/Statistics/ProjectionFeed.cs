using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>
/// Feeds envelopes read from the log to the projections, a bounded number at a time, and
/// remembers the projections it touched so that <see cref="CompleteAsync"/> can persist them: a
/// rebuild and a reconciliation must not report success while counts are only in memory.
/// Used from within one grain call; not thread-safe.
/// </summary>
internal sealed class ProjectionFeed(IGrainFactory grains, int parallelism)
{
    private readonly List<Task> inFlight = [];
    private readonly HashSet<string> days = new(StringComparer.Ordinal);
    private readonly HashSet<string> customers = new(StringComparer.Ordinal);
    private readonly HashSet<string> shards = new(StringComparer.Ordinal);

    /// <summary>Envelope-projections fed so far (one per envelope and generation).</summary>
    public long Fed { get; private set; }

    public async Task AddAsync(OrderEventEnvelope envelope, int generation)
    {
        days.Add(StatisticsKeys.DayOf(generation, envelope));
        customers.Add(StatisticsKeys.Customer(generation, envelope.CustomerId));
        shards.Add(StatisticsKeys.Shard(generation, OrderEventStreams.ShardOf(envelope.OrderId)));
        inFlight.Add(OrderEventsConsumerGrain.Project(grains, envelope, generation));
        Fed++;
        if (inFlight.Count >= parallelism)
        {
            await DrainAsync();
        }
    }

    /// <summary>Waits for everything fed, then has every touched projection persist (days also push their rollups).</summary>
    public async Task CompleteAsync()
    {
        await DrainAsync();
        await Task.WhenAll(
            days.Select(key => grains.GetGrain<IDayStatsGrain>(key).Flush())
                .Concat(customers.Select(key => grains.GetGrain<ICustomerStatsGrain>(key).Flush()))
                .Concat(shards.Select(key => grains.GetGrain<IStuckOrdersGrain>(key).Flush())));
    }

    private async Task DrainAsync()
    {
        try
        {
            await Task.WhenAll(inFlight);
        }
        finally
        {
            inFlight.Clear();
        }
    }
}
