using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrderFlow.Grains.Projections.WriteBehind;

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
