using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Hosting;
using OrderFlow.Grains.Statistics;

namespace OrderFlow.Grains.Projections.Reconciliation;

/// <summary>
/// Runs <see cref="ProjectionReconcilerGrain"/> every <see cref="ReconciliationOptions.Interval"/>
/// while the silo is up, unless <see cref="ReconciliationOptions.Enabled"/> is off (every silo asks
/// the same grain; passes do not overlap), and again at once while a pass finds a full batch.
/// </summary>
public sealed class ProjectionReconciliation(
    IGrainFactory grains,
    IOptions<StatisticsOptions> options,
    IOptions<EventStoreOptions> eventStore,
    TimeProvider time,
    ILogger<ProjectionReconciliation> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Azure Table storage's server timeout for a table operation: a request may be carried out until then.</summary>
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(30);

    private readonly BackgroundLoop background = new();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ProjectionReconciliation), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Reconciliation.Enabled)
        {
            return Task.CompletedTask;
        }

        // An announced append's last try can be sent up to two event-log operations after its
        // announcement, and the server may still carry it out until its own timeout after that.
        var longestAppend = 2 * eventStore.Value.OperationTimeout + ServerTimeout;
        if (options.Value.Reconciliation.Settle < longestAppend)
        {
            logger.LogWarning(
                "Statistics:Reconciliation:Settle ({Settle}) is shorter than the longest an announced append can still land ({LongestAppend}: two event-log operations and the storage's own timeout): an append that lands late may be missed by the reconciliation.",
                options.Value.Reconciliation.Settle, longestAppend);
        }

        background.Start(RunAsync);
        return Task.CompletedTask;
    }

    private Task StopAsync(CancellationToken cancellationToken) => background.StopAsync(cancellationToken);

    private async Task RunAsync()
    {
        var settings = options.Value.Reconciliation;
        var reconciler = grains.GetGrain<IProjectionReconcilerGrain>(0);
        while (!background.IsStopping)
        {
            var more = false;
            try
            {
                var pass = await reconciler.Reconcile();
                more = pass.Changes >= settings.MaxChangesPerPass;
            }
            catch (Exception exception) when (!background.IsStopping)
            {
                logger.LogWarning(exception, "A reconciliation pass failed; retrying in {Interval}.", settings.Interval);
            }
            catch (Exception) when (background.IsStopping)
            {
                return;
            }

            if (!more)
            {
                try
                {
                    await Task.Delay(settings.Interval, time, background.Stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
