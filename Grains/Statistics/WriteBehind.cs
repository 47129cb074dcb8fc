using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrderFlow.Grains.Statistics;

/// <summary>A projection that counts in memory and persists in batches (see <see cref="WriteBehind"/>).</summary>
public interface IWriteBehindProjection : IGrainWithStringKey
{
    /// <summary>
    /// Persists what was counted now, instead of at the next tick; throws if that failed, so that
    /// a caller relying on it (a rebuild, a reconciliation) does not go on.
    /// </summary>
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
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            dirty = true; // tried again at the next tick
            logger.LogWarning(exception, "Statistics of {Grain} could not be persisted; retrying.", grain.GetGrainId());
            if (rethrow)
            {
                throw;
            }
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
