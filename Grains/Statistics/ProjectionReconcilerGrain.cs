using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Projections;
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
/// <param name="Failed">Orders not (completely) counted: unreadable, or fed to a projection that failed. Parked, and announced again for the time of their retry.</param>
/// <param name="Unparked">Parked records that succeeded in this pass and were removed.</param>
[GenerateSerializer, Alias("orderflow.reconciliation-pass")]
public sealed record ReconciliationPass(
    [property: Id(0)] int Changes,
    [property: Id(1)] int Orders,
    [property: Id(2)] long Events,
    [property: Id(3)] int Failed,
    [property: Id(4)] int Unparked = 0);

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
/// <remarks>
/// One bad record does not hold up the others: an order whose log cannot be read back (a corrupt
/// row), or whose events a projection grain failed to count, is parked
/// (<see cref="ParkedRecordsGrain"/>, logged once) and announced again in the change index for
/// the time of its retry, which backs off; everything else in the pass is counted and its rows
/// removed. A parked record that a later pass counts completely is removed from the list. Storage
/// being unavailable (or every projection of a batch failing) still fails the whole pass.
/// </remarks>
public sealed class ProjectionReconcilerGrain(
    TableEventStore store,
    ChangeIndex changes,
    IOptions<StatisticsOptions> options,
    IOptions<EventStoreOptions> eventStore,
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

        var soonestRetry = ParkedRetries.SoonestRetry(eventStore.Value, settings);
        var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
        var parked = (await GrainFactory.GetGrain<IParkedRecordsGrain>(0).List()).Records;
        var orders = due.GroupBy(c => c.StreamId, StringComparer.Ordinal)
            .Select(g => (OrderId: g.Key, From: g.Min(c => c.FromVersion)))
            .ToList();
        var unreadable = new List<(string OrderId, ParkRequest Failure)>();
        var feed = new ProjectionFeed(GrainFactory, parked.Where(r => r.Kind == ParkedKind.Projection).Select(r => r.Key).ToHashSet(StringComparer.Ordinal));
        foreach (var chunk in orders.Chunk(ReadParallelism))
        {
            // Storage being unavailable fails the pass (every row stays); anything else is the order's own problem.
            foreach (var read in await Task.WhenAll(chunk.Select(order => OrderReadBack.ReadAfterAsync(store, order.OrderId, order.From - 1, soonestRetry))))
            {
                if (read.Failure is not null)
                {
                    unreadable.Add((read.OrderId, read.Failure));
                }

                foreach (var envelope in read.Envelopes)
                {
                    foreach (var generation in generations)
                    {
                        await feed.AddAsync(envelope, generation);
                    }
                }
            }
        }

        // Everything fed is durably counted once this returns, but what the failed projections were sent.
        await feed.CompleteAsync();

        var readFrom = orders.ToDictionary(o => o.OrderId, o => o.From, StringComparer.Ordinal);
        var failedOrders = unreadable.Select(u => u.OrderId).Concat(feed.FailedOrders).ToHashSet(StringComparer.Ordinal);
        await ParkedRetries.ParkAsync(GrainFactory, changes, time, unreadable, feed.Failures, orderId => readFrom[orderId], soonestRetry);
        await changes.RemoveAsync(due);

        // What was parked and has now been read and counted completely (a parked event: read again from it or before).
        var recoveredOrders = parked.Where(r => r.Kind is ParkedKind.Order or ParkedKind.Event)
            .Select(r => r.Kind == ParkedKind.Order
                ? (OrderId: r.Key, Version: int.MaxValue)
                : (OrderId: r.Key[..r.Key.LastIndexOf('#')], Version: int.Parse(r.Key[(r.Key.LastIndexOf('#') + 1)..], System.Globalization.CultureInfo.InvariantCulture)))
            .Where(p => !failedOrders.Contains(p.OrderId) && readFrom.TryGetValue(p.OrderId, out var from) && from <= p.Version)
            .Select(p => p.OrderId)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        // And parked projections of generations nothing feeds any more (a rebuild replaced theirs).
        var recoveredKeys = feed.Succeeded
            .Concat(parked.Where(r => r.Kind == ParkedKind.Projection && !generations.Contains(StatisticsKeys.GenerationOfGrain(r.Key))).Select(r => r.Key))
            .ToList();
        if (recoveredOrders.Count > 0)
        {
            await GrainFactory.GetGrain<IParking>(0).Resolve(ParkedKind.Order, recoveredOrders);
        }

        if (recoveredKeys.Count > 0)
        {
            await GrainFactory.GetGrain<IParking>(0).Resolve(ParkedKind.Projection, recoveredKeys);
        }

        logger.LogDebug("Reconciled {Changes} changes of {Orders} orders ({Events} events fed, {Failed} orders parked).", due.Count, orders.Count, feed.Persisted, failedOrders.Count);
        return new ReconciliationPass(due.Count, orders.Count, feed.Persisted, failedOrders.Count, recoveredOrders.Count + recoveredKeys.Count);
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
