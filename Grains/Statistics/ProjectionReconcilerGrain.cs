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
/// <param name="Events">Events durably counted, once per generation they were fed to.</param>
/// <param name="Failed">Orders that could not be read back; announced again in the current bucket.</param>
[GenerateSerializer, Alias("orderflow.reconciliation-pass")]
public sealed record ReconciliationPass(
    [property: Id(0)] int Changes,
    [property: Id(1)] int Orders,
    [property: Id(2)] long Events,
    [property: Id(3)] int Failed);

/// <summary>
/// The guarantee behind "statistics equal a fold over the log". Streams are the fast path; they
/// can lose what a dying silo had confirmed but not yet published, and a projection that dies
/// between write-behind flushes loses what it had counted since the last one (even when the
/// stream, like Azure Queues, had delivered it durably). Every append is announced in the
/// <see cref="ChangeIndex"/> before it is written; once a bucket has settled, this grain reads
/// each announced order's events from the log, feeds them to the projections of every live
/// generation with <see cref="IWriteBehindProjection.IngestAndPersist"/> (they skip what they have
/// already counted, and persist before answering), and only then removes the rows. A crash
/// anywhere in between leaves the rows for the next pass.
/// </summary>
public sealed class ProjectionReconcilerGrain(
    TableEventStore store,
    ChangeIndex changes,
    IOptions<StatisticsOptions> options,
    TimeProvider time,
    ILogger<ProjectionReconcilerGrain> logger) : Grain, IProjectionReconcilerGrain
{
    /// <summary>Orders read from the log at once.</summary>
    private const int ReadParallelism = 16;

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
            .Select(g => (OrderId: g.Key, From: g.Min(c => c.FromVersion)))
            .ToList();
        var failed = new List<(string OrderId, int From)>();
        var feed = new ProjectionFeed(GrainFactory);
        foreach (var chunk in orders.Chunk(ReadParallelism))
        {
            // Storage being unavailable fails the pass (every row stays); anything else is the order's own problem.
            foreach (var (order, envelopes) in await Task.WhenAll(chunk.Select(ReadAsync)))
            {
                if (envelopes is null)
                {
                    failed.Add(order);
                    continue;
                }

                foreach (var envelope in envelopes)
                {
                    foreach (var generation in generations)
                    {
                        await feed.AddAsync(envelope, generation);
                    }
                }
            }
        }

        // Everything fed is durably counted once this returns; a failure leaves every row for the next pass.
        await feed.CompleteAsync();

        // An order that cannot be read is announced again in the current bucket, so that it is retried
        // (and logged) a bucket later instead of holding up the oldest rows forever.
        foreach (var (orderId, from) in failed)
        {
            await changes.RecordAsync(orderId, from, changes.PartitionOf(orderId, time.GetUtcNow()));
        }

        await changes.RemoveAsync(due);
        logger.LogDebug("Reconciled {Changes} changes of {Orders} orders ({Events} events fed, {Failed} orders unreadable).", due.Count, orders.Count, feed.Persisted, failed.Count);
        return new ReconciliationPass(due.Count, orders.Count, feed.Persisted, failed.Count);

        async Task<((string OrderId, int From) Order, List<OrderEventEnvelope>? Envelopes)> ReadAsync((string OrderId, int From) order)
        {
            try
            {
                return (order, await OrderEventEnvelopes.ReadAfterAsync(store, order.OrderId, order.From - 1));
            }
            catch (Exception exception) when (exception is not Storage.StorageUnavailableException)
            {
                logger.LogError(exception, "Order {OrderId} cannot be read back from the log for reconciliation; it is retried a change bucket later.", order.OrderId);
                return (order, null);
            }
        }
    }
}

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
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ProjectionReconciliation), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Reconciliation.Enabled)
        {
            return Task.CompletedTask;
        }

        // An announced append can land up to two event-log operations after its announcement.
        var longestAppend = 2 * eventStore.Value.OperationTimeout;
        if (options.Value.Reconciliation.Settle < longestAppend)
        {
            logger.LogWarning(
                "Statistics:Reconciliation:Settle ({Settle}) is shorter than two event-log operations ({LongestAppend}): an append that lands late may be missed by the reconciliation.",
                options.Value.Reconciliation.Settle, longestAppend);
        }

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
                more = pass.Changes >= settings.MaxChangesPerPass;
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
