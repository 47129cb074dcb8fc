using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>Brings the projections up to date with the event log for the orders that changed lately (key: 0).</summary>
public interface IProjectionReconcilerGrain : IGrainWithIntegerKey
{
    /// <summary>Deals with one batch of changes whose bucket has settled; what it did, all zero when nothing was due.</summary>
    Task<ReconciliationPass> Reconcile();
}

/// <param name="Changes">Change-index rows dealt with (and removed).</param>
/// <param name="Orders">Orders read back from the log.</param>
/// <param name="Events">Events fed to the projections, once per generation they were fed to.</param>
/// <param name="Failed">Orders that could not be read or projected; their rows stay for the next pass.</param>
[GenerateSerializer, Alias("orderflow.reconciliation-pass")]
public sealed record ReconciliationPass(
    [property: Id(0)] int Changes,
    [property: Id(1)] int Orders,
    [property: Id(2)] long Events,
    [property: Id(3)] int Failed);

/// <summary>
/// The guarantee behind "statistics equal a fold over the log". Streams are the fast path; they
/// can lose what a dying silo had confirmed but not yet published, and a day grain that dies
/// between flushes loses what it had counted since the last one (even when the stream, like
/// Azure Queues, had delivered it durably). Every append is announced in the
/// <see cref="ChangeIndex"/> before it is written; once a bucket has settled, this grain reads
/// each announced order's events from the log, feeds them to the projections of every live
/// generation (which skip what they have already counted), persists the touched day grains, and
/// only then removes the rows. A crash anywhere in between leaves the rows for the next pass.
/// </summary>
public sealed class ProjectionReconcilerGrain(
    TableEventStore store,
    ChangeIndex changes,
    IOptions<StatisticsOptions> options,
    TimeProvider time,
    ILogger<ProjectionReconcilerGrain> logger) : Grain, IProjectionReconcilerGrain
{
    /// <summary>Orders read from the log at once, and projections fed at once.</summary>
    private const int Parallelism = 16;

    public async Task<ReconciliationPass> Reconcile()
    {
        var settings = options.Value.Reconciliation;
        var due = await changes.ReadEndedBeforeAsync(time.GetUtcNow() - settings.Settle, settings.MaxChangesPerPass);
        if (due.Count == 0)
        {
            return new ReconciliationPass(0, 0, 0, 0);
        }

        var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
        var orders = due.GroupBy(c => c.StreamId, StringComparer.Ordinal)
            .Select(g => (OrderId: g.Key, After: g.Min(c => c.FromVersion) - 1))
            .ToList();
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var feed = new ProjectionFeed(GrainFactory, Parallelism);
        foreach (var chunk in orders.Chunk(Parallelism))
        {
            var reads = chunk.Select(order => (order.OrderId, Read: OrderEventEnvelopes.ReadAfterAsync(store, order.OrderId, order.After))).ToList();
            foreach (var (orderId, read) in reads)
            {
                try
                {
                    foreach (var envelope in await read)
                    {
                        foreach (var generation in generations)
                        {
                            await feed.AddAsync(envelope, generation);
                        }
                    }
                }
                catch (Exception exception) when (exception is not Storage.StorageUnavailableException)
                {
                    // A stream that cannot be read or folded must not hold up the others; it is retried every pass.
                    failed.Add(orderId);
                    logger.LogError(exception, "Reconciling order {OrderId} failed; its change stays for the next pass.", orderId);
                }
            }
        }

        await feed.CompleteAsync();
        var done = due.Where(c => !failed.Contains(c.StreamId)).ToList();
        await changes.RemoveAsync(done);
        logger.LogDebug("Reconciled {Changes} changes of {Orders} orders ({Events} events fed).", done.Count, orders.Count, feed.Fed);
        return new ReconciliationPass(done.Count, orders.Count, feed.Fed, failed.Count);
    }
}

/// <summary>
/// Runs <see cref="ProjectionReconcilerGrain"/> every <see cref="ReconciliationOptions.Interval"/>
/// while the silo is up (every silo asks the same grain; passes do not overlap), and again at once
/// while a pass finds a full batch.
/// </summary>
public sealed class ProjectionReconciliation(
    IGrainFactory grains,
    IOptions<StatisticsOptions> options,
    TimeProvider time,
    ILogger<ProjectionReconciliation> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ProjectionReconciliation), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (loop is not null)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RunAsync()
    {
        var settings = options.Value.Reconciliation;
        var reconciler = grains.GetGrain<IProjectionReconcilerGrain>(0);
        while (!stopping.IsCancellationRequested)
        {
            var more = false;
            try
            {
                var pass = await reconciler.Reconcile();
                more = pass.Changes + pass.Failed >= settings.MaxChangesPerPass && pass.Changes > 0;
            }
            catch (Exception exception) when (!stopping.IsCancellationRequested)
            {
                logger.LogWarning(exception, "A reconciliation pass failed; retrying in {Interval}.", settings.Interval);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }

            if (!more)
            {
                try
                {
                    await Task.Delay(settings.Interval, time, stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
