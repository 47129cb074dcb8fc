using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Hosting;
using OrderFlow.Grains.Statistics;

namespace OrderFlow.Grains.Projections.Reconciliation;

/// <summary>
/// Watches cluster membership from every silo and, when a silo is declared dead, asks the
/// reconciler for a catch-up (<see cref="IProjectionReconcilerGrain.CatchUp"/>): the dead silo's
/// projections lost what they had counted since their last flush, and its orders may have
/// confirmed events they never published. Every surviving silo reports each death; the reconciler
/// runs one pass for it. Dead is the point at which the dead silo's activations are gone from
/// the directory, so the pass reaches fresh activations, loaded from what was persisted.
/// Off with <see cref="ReconciliationOptions.Enabled"/>.
/// </summary>
/// <remarks>
/// Which silos count as newly dead is <see cref="SiloDeaths"/>' rule. Silos already dead in the
/// first view this silo gets are reported too: when every silo died (or the only one restarted),
/// nobody else saw it happen. The reconciler remembers the silos it handled, so that costs a pass
/// only when it has not seen them.
/// </remarks>
public sealed class SiloDeathWatch(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IGrainFactory grains,
    IOptions<StatisticsOptions> options,
    TimeProvider time,
    ILogger<SiloDeathWatch> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Wait between attempts to reach the reconciler (it may itself have been on the dead silo).</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private const int MaxReportAttempts = 60;

    private readonly BackgroundLoop background = new();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloDeathWatch), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Reconciliation.Enabled)
        {
            background.Start(WatchAsync);
        }

        return Task.CompletedTask;
    }

    private Task StopAsync(CancellationToken cancellationToken) => background.StopAsync(cancellationToken);

    private async Task WatchAsync()
    {
        var deaths = new SiloDeaths(localSilo.SiloAddress);
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(background.Stopping))
            {
                var died = deaths.Observe(snapshot);
                if (died.Count > 0)
                {
                    await ReportAsync(died, snapshot.Version.Value);
                }
            }
        }
        catch (OperationCanceledException) when (background.IsStopping)
        {
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "The silo death watch stopped; statistics lost with a dead silo are restored by the regular reconciliation only.");
        }
    }

    /// <summary>Asks until the reconciler has it, for a minute at most (the other silos report it too).</summary>
    private async Task ReportAsync(IReadOnlyList<SiloAddress> died, long version)
    {
        for (var attempt = 1; attempt <= MaxReportAttempts && !background.IsStopping; attempt++)
        {
            try
            {
                await grains.GetGrain<IProjectionReconcilerGrain>(0).CatchUp(died, version);
                return;
            }
            catch (Exception exception) when (!background.IsStopping)
            {
                logger.Log(attempt == 1 ? LogLevel.Warning : LogLevel.Debug, exception,
                    "Could not ask for a statistics catch-up after silo(s) {Silos} died; retrying.", string.Join(", ", died));
            }

            await Task.Delay(RetryDelay, time, background.Stopping);
        }
    }
}
