using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>A projection that counts in memory and persists in batches (see <see cref="WriteBehind"/>).</summary>
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
    Task IngestAndPersist(IReadOnlyList<OrderEventEnvelope> envelopes);

    /// <summary>Persists what this activation counted now, instead of at the next tick; throws if that failed.</summary>
    Task Flush();
}

/// <summary>
/// Batches a projection grain's storage writes: the grain counts in memory and <see cref="Changed"/>
/// marks it; the state is persisted (by the grain's own persist function) every
/// <see cref="StatisticsOptions.FlushInterval"/>, on <see cref="IWriteBehindProjection.Flush"/>,
/// on deactivation and when the silo shuts down. What a crash takes with it is counted again by
/// the reconciliation (<see cref="ProjectionReconcilerGrain"/>), which flushes what it fed before
/// it lets go of a change.
/// </summary>
internal sealed class WriteBehind
{
    private readonly Grain grain;
    private readonly UnflushedProjections unflushed;
    private readonly ILogger logger;
    private readonly Func<CancellationToken, Task> persist;
    private bool dirty;

    public WriteBehind(Grain grain, UnflushedProjections unflushed, TimeSpan interval, ILogger logger, Func<CancellationToken, Task> persist)
    {
        this.grain = grain;
        this.unflushed = unflushed;
        this.logger = logger;
        this.persist = persist;
        grain.RegisterGrainTimer(cancellationToken => FlushAsync(cancellationToken, rethrow: false), interval, interval);
    }

    /// <summary>The state changed in memory: persist it at the next flush.</summary>
    public void Changed()
    {
        dirty = true;
        unflushed.Add(grain.GetGrainId());
    }

    public async Task FlushAsync(CancellationToken cancellationToken, bool rethrow)
    {
        if (!dirty)
        {
            return;
        }

        dirty = false;
        try
        {
            await persist(cancellationToken);
            if (!dirty)
            {
                unflushed.Remove(grain.GetGrainId());
            }
        }
        catch (Exception exception)
        {
            dirty = true; // tried again at the next tick
            if (exception is OperationCanceledException)
            {
                throw;
            }

            logger.LogWarning(exception, "Statistics of {Grain} could not be persisted; retrying.", grain.GetGrainId());
            if (rethrow)
            {
                throw;
            }
        }
    }

    /// <summary>
    /// The last flush of a deactivating grain: whatever it could not persist is gone with the
    /// activation (the reconciliation counts it again), so the silo stops tracking it.
    /// </summary>
    public async Task FlushOnDeactivationAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken, rethrow: false);
        }
        finally
        {
            unflushed.Remove(grain.GetGrainId());
        }
    }
}

/// <summary>The projections of this silo holding counts not yet persisted.</summary>
public sealed class UnflushedProjections
{
    private readonly ConcurrentDictionary<GrainId, byte> grains = new();

    public void Add(GrainId grain) => grains.TryAdd(grain, 0);

    public void Remove(GrainId grain) => grains.TryRemove(grain, out _);

    public IReadOnlyCollection<GrainId> Grains => [.. grains.Keys];
}

/// <summary>
/// When a silo shuts down, flushes every projection with unpersisted counts while the silo still
/// accepts calls: during deactivation a day's push to its month can fail, and a customer's alerts
/// may not reach the alert feed.
/// </summary>
public sealed class FlushStatisticsOnShutdown(UnflushedProjections unflushed, IGrainFactory grains, ILogger<FlushStatisticsOnShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(FlushStatisticsOnShutdown), ServiceLifecycleStage.Active, _ => Task.CompletedTask, FlushAsync);

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        var pending = unflushed.Grains;
        try
        {
            await Task.WhenAll(pending.Select(id => grains.GetGrain<IWriteBehindProjection>(id).Flush())).WaitAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Flushing {Count} projections at shutdown failed; the reconciliation counts what was lost.", pending.Count);
        }
    }
}
