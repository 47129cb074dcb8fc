using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Projections;
using OrderFlow.Storage;
using OrderFlow.Streams;
using Orleans.Concurrency;

namespace OrderFlow.Grains.Projections.Reconciliation;

/// <summary>
/// The guarantee behind "statistics equal a fold over the log". Streams are the fast path; they
/// can lose what a dying silo had confirmed but not yet published, and a projection that dies
/// between write-behind flushes loses what it had counted since the last one (even when the
/// stream, like Azure Queues, had delivered it durably). Every append is announced in the
/// <see cref="ChangeIndex"/> before it is written; once a bucket has settled, this grain takes
/// each announced order's events from what this silo's grains confirmed (<see cref="ConfirmedEnvelopes"/>)
/// or, when they do not hold them all, reads them from the log, feeds them to the projections of every live
/// generation with <see cref="IWriteBehindProjection.IngestAndPersist"/> (they skip what they have
/// already counted, and persist before answering), and only then removes the rows. A crash
/// anywhere in between leaves the rows for the next pass.
/// </summary>
/// <remarks>
/// One bad record does not hold up the others: an order or a customer whose log cannot be read
/// back (a corrupt row), or whose events a projection grain failed to count, is parked
/// (<see cref="ParkedRecordsGrain"/>, logged once) and announced again in the change index for
/// the time of its retry, which backs off; everything else in the pass is counted and its rows
/// removed. A parked record that a later pass counts completely is removed from the list. Storage
/// being unavailable (or every projection of a batch failing) still fails the whole pass.
/// <para>
/// When a silo dies, waiting for its changes to settle would leave the statistics short for a
/// minute or more, so a catch-up (<see cref="CatchUp"/>, asked by <see cref="SiloDeathWatch"/>)
/// feeds every change in the index at once, read from the log (what this silo holds is left to the
/// regular pass). It removes no row (but one that names no stream, which the index leaves out and removes): an append announced but still in
/// flight could land after it read the order, and the regular pass, after the bucket settled,
/// must still see it. What it fails to feed is left to the regular passes.
/// </para>
/// </remarks>
public sealed class ProjectionReconcilerGrain(
    ChangeIndex changes,
    EventLogs logs,
    ConfirmedEnvelopes confirmed,
    IOptions<StatisticsOptions> options,
    IOptions<EventStoreOptions> eventStore,
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<ProjectionReconcilerGrain> logger) : Grain, IProjectionReconcilerGrain
{
    /// <summary>Orders read from the log at once.</summary>
    private const int ReadParallelism = 16;

    /// <summary>Change rows read per page by a catch-up.</summary>
    private const int CatchUpPageSize = 1_000;

    /// <summary>Attempts of a catch-up whose feeding failed (a projection's old activation may still be in a directory cache for a moment).</summary>
    private const int CatchUpAttempts = 3;

    /// <summary>
    /// Streams whose reads storage did not answer in a regular pass, and when: the first time a
    /// stream is only announced again, the second in a row it is parked, so a passing blip parks
    /// nothing while a stream whose reads always outlast their deadline stops holding up the others.
    /// </summary>
    private readonly Dictionary<(string Category, string StreamId), DateTimeOffset> unansweredOnce = [];

    private readonly HashSet<SiloAddress> handledSilos = [];
    private IGrainTimer? catchUpTimer;
    private bool catchUpDue;
    private bool catchUpRunning;
    private long catchUpMembershipVersion;
    private int catchUpPasses;
    private ReconciliationPass? lastCatchUp;
    private TimeSpan lastCatchUpDuration;
    private long catchUpRequestedAt;

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
        var parkedProjections = parked.Where(r => r.Kind == ParkedKind.Projection).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);

        // Orders and customers feed these projections; other categories' rows are removed with the rest.
        var orders = StreamsOf(due, StreamCategories.Order);
        var orderFeed = new ProjectionFeed<OrderEventEnvelope>(GrainFactory, EventCategories.Orders, parkedProjections);
        var unansweredOrders = new List<(string StreamId, ParkRequest Failure)>();
        var unreadableOrders = await ReadBackAndFeedAsync(
            OrderEventSource.Instance, orders, generations, orderFeed, soonestRetry, AnnouncedThrough(due, StreamCategories.Order), unansweredOrders);
        Measure(orderFeed.Persisted, orderFeed.Repaired, "regular");
        var customers = StreamsOf(due, CustomerEventSource.CategoryName);
        var customerFeed = new ProjectionFeed<CustomerEventEnvelope>(GrainFactory, EventCategories.Customers, parkedProjections);
        var unansweredCustomers = new List<(string StreamId, ParkRequest Failure)>();
        var unreadableCustomers = await ReadBackAndFeedAsync(
            CustomerEventSource.Instance, customers, generations, customerFeed, soonestRetry, AnnouncedThrough(due, CustomerEventSource.CategoryName), unansweredCustomers);
        Measure(customerFeed.Persisted, customerFeed.Repaired, "regular");

        var ordersFrom = orders.ToDictionary(o => o.StreamId, o => o.From, StringComparer.Ordinal);
        var customersFrom = customers.ToDictionary(c => c.StreamId, c => c.From, StringComparer.Ordinal);
        var retriedQuietly = new List<ChangeToRecord>();
        unreadableOrders.AddRange(StreamReadBack.UncountedOf(StreamCategories.Order, orderFeed, soonestRetry));
        unreadableCustomers.AddRange(StreamReadBack.UncountedOf(CustomerEventSource.CategoryName, customerFeed, soonestRetry));
        unreadableOrders.AddRange(ParkIfUnansweredBefore(StreamCategories.Order, orders, unansweredOrders, ordersFrom, retriedQuietly, soonestRetry));
        unreadableCustomers.AddRange(ParkIfUnansweredBefore(CustomerEventSource.CategoryName, customers, unansweredCustomers, customersFrom, retriedQuietly, soonestRetry));
        StreamFailures[] failures =
        [
            new(StreamCategories.Order, unreadableOrders, orderFeed.Failures, orderId => ordersFrom[orderId]),
            new(CustomerEventSource.CategoryName, unreadableCustomers, customerFeed.Failures, customerId => customersFrom[customerId]),
        ];
        await ParkedRetries.ParkAsync(GrainFactory, changes, time, failures, soonestRetry);
        await ParkedRetries.RecordAsync(changes, retriedQuietly, time.GetUtcNow()); // before the rows go: read again once this bucket settles

        // What was parked and has now been read and counted completely (a parked event: read again from it or before).
        var failedOrders = failures[0].Streams;
        failedOrders.UnionWith(retriedQuietly.Where(r => r.Category == StreamCategories.Order).Select(r => r.StreamId));
        var failedCustomers = failures[1].Streams;
        failedCustomers.UnionWith(retriedQuietly.Where(r => r.Category == CustomerEventSource.CategoryName).Select(r => r.StreamId));
        var recoveredOrders = parked.Where(r => r.Kind is ParkedKind.Order or ParkedKind.Event)
            .Select(r => r.Kind == ParkedKind.Order
                ? (OrderId: r.Key, Version: int.MaxValue)
                : (OrderId: r.Key[..r.Key.LastIndexOf('#')], Version: int.Parse(r.Key[(r.Key.LastIndexOf('#') + 1)..], System.Globalization.CultureInfo.InvariantCulture)))
            .Where(p => !failedOrders.Contains(p.OrderId) && ordersFrom.TryGetValue(p.OrderId, out var from) && from <= p.Version)
            .Select(p => p.OrderId)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var recoveredCustomers = parked.Where(r => r.Kind == ParkedKind.Customer && customersFrom.ContainsKey(r.Key) && !failedCustomers.Contains(r.Key))
            .Select(r => r.Key)
            .ToList();
        // And parked projections that took every send of both feeds, or of generations nothing feeds any more (a rebuild replaced theirs).
        var failedKeys = orderFeed.Failures.Concat(customerFeed.Failures).Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
        var recoveredKeys = orderFeed.Succeeded.Concat(customerFeed.Succeeded).Where(key => !failedKeys.Contains(key))
            .Concat(parked.Where(r => r.Kind == ParkedKind.Projection && !generations.Contains(StatisticsKeys.GenerationOfGrain(r.Key))).Select(r => r.Key))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var parking = GrainFactory.GetGrain<IParking>(0);
        if (recoveredOrders.Count > 0)
        {
            await parking.Resolve(ParkedKind.Order, recoveredOrders);
        }

        if (recoveredCustomers.Count > 0)
        {
            await parking.Resolve(ParkedKind.Customer, recoveredCustomers);
        }

        if (recoveredKeys.Count > 0)
        {
            await parking.Resolve(ParkedKind.Projection, recoveredKeys);
        }

        // Last: an unpark that failed leaves the rows for the next pass, which feeds them again (a
        // repeat counts nothing) and unparks; removed first, a recovered record stayed listed for good.
        await changes.RemoveAsync(due);

        var persisted = orderFeed.Persisted + customerFeed.Persisted;
        var repaired = orderFeed.Repaired + customerFeed.Repaired;
        logger.LogDebug("Reconciled {Changes} changes of {Orders} orders and {Customers} customers ({Events} events fed, {Repaired} repaired, {Failed} orders and {FailedCustomers} customers not counted: parked, or announced again when storage did not answer their reads for the first time).",
            due.Count, orders.Count, customers.Count, persisted, repaired, failedOrders.Count, failedCustomers.Count);
        return new ReconciliationPass(
            due.Count, orders.Count, persisted, failedOrders.Count + failedCustomers.Count, recoveredOrders.Count + recoveredCustomers.Count + recoveredKeys.Count, repaired);
    }

    /// <summary>
    /// Reads each stream of <paramref name="source"/>'s category back after the version before
    /// <c>From</c>, and feeds its envelopes to every generation in <paramref name="generations"/>.
    /// When this returns, everything fed is durably counted, but what
    /// <see cref="ProjectionFeed{TEnvelope}.Failures"/> lists; returns the streams that could not be
    /// read back (completely). Storage being unavailable throws.
    /// </summary>
    /// <param name="unanswered">Where streams whose reads storage did not answer go, rather than among those returned (a regular pass decides).</param>
    /// <param name="announcedThrough">
    /// For a regular pass, the highest version each stream's change rows announce: its envelopes are
    /// taken from <see cref="ConfirmedEnvelopes"/> when this silo holds them all, else read from the
    /// log. Null (the catch-up, which removes no row): every stream is read from the log.
    /// </param>
    private async Task<List<(string StreamId, ParkRequest Failure)>> ReadBackAndFeedAsync<TState, TEvent, TEnvelope>(
        EventSource<TState, TEvent, TEnvelope> source, IReadOnlyCollection<(string StreamId, int From)> streams, int[] generations,
        ProjectionFeed<TEnvelope> feed, TimeSpan soonestRetry, IReadOnlyDictionary<string, int>? announcedThrough = null,
        List<(string StreamId, ParkRequest Failure)>? unanswered = null)
        where TState : class, IEventSourcedState<TState, TEvent>, new()
        where TEvent : class
    {
        var log = logs.For(source.Category);
        var unreadable = new List<(string StreamId, ParkRequest Failure)>();
        foreach (var chunk in streams.Chunk(ReadParallelism))
        {
            var reads = chunk.Select(stream =>
                announcedThrough is not null
                && confirmed.TakeAfter<TEnvelope>(source.Category, stream.StreamId, stream.From - 1, announcedThrough[stream.StreamId]) is { } held
                    ? Task.FromResult(new ReadBack<TEnvelope>(stream.StreamId, held, null))
                    : StreamReadBack.ReadAfterAsync(source, log, stream.StreamId, stream.From - 1, soonestRetry, parkWhenStorageFails: unanswered is not null));

            // A stream whose reads storage did not answer goes to `unanswered`, so that the same stream (a fold
            // that outlasts its deadline every time) cannot fail every pass; storage being down fails a regular
            // pass later (parking and the rows' removal write) and every row stays; the catch-up, which writes
            // no row, fails when storage answered none of its streams.
            foreach (var first in await Task.WhenAll(reads))
            {
                for (var read = first; ; read = await read.Next())
                {
                    if (read.Failure is not null)
                    {
                        (read.StorageDidNotAnswer && unanswered is not null ? unanswered : unreadable).Add((read.StreamId, read.Failure));
                    }

                    foreach (var envelope in read.Envelopes)
                    {
                        foreach (var generation in generations)
                        {
                            await feed.AddAsync(envelope, generation);
                        }
                    }

                    if (read.Next is null)
                    {
                        break;
                    }
                }
            }
        }

        await feed.CompleteAsync();
        return unreadable;
    }

    /// <summary>
    /// Of the streams of <paramref name="category"/> whose reads storage did not answer, those it did
    /// not answer the last time either (within a few retries' time), to be parked; the others are
    /// remembered and added to <paramref name="retriedQuietly"/>. Streams read this time are forgotten.
    /// </summary>
    private List<(string StreamId, ParkRequest Failure)> ParkIfUnansweredBefore(
        string category, IEnumerable<(string StreamId, int From)> read, List<(string StreamId, ParkRequest Failure)> unanswered,
        Dictionary<string, int> fromVersion, List<ChangeToRecord> retriedQuietly, TimeSpan soonestRetry)
    {
        var now = time.GetUtcNow();
        var failed = unanswered.Select(u => u.StreamId).ToHashSet(StringComparer.Ordinal);
        foreach (var (streamId, _) in read.Where(stream => !failed.Contains(stream.StreamId)))
        {
            unansweredOnce.Remove((category, streamId));
        }

        foreach (var stale in unansweredOnce.Where(entry => now - entry.Value > 4 * soonestRetry).Select(entry => entry.Key).ToList())
        {
            unansweredOnce.Remove(stale);
        }

        var toPark = new List<(string StreamId, ParkRequest Failure)>();
        foreach (var (streamId, failure) in unanswered)
        {
            if (unansweredOnce.Remove((category, streamId)) || unansweredOnce.Count >= MaxUnansweredRemembered)
            {
                toPark.Add((streamId, failure));
            }
            else
            {
                unansweredOnce[(category, streamId)] = now;
                retriedQuietly.Add(new ChangeToRecord(streamId, fromVersion[streamId], category));
                logger.LogWarning("{Category} stream {Stream}: storage did not answer its reads in this reconciliation pass; it is read again in a later pass, and parked if that fails too.", category, streamId);
            }
        }

        return toPark;
    }

    /// <summary>Streams remembered as unanswered once; past it, they are parked at once (storage failing for many is no blip).</summary>
    private const int MaxUnansweredRemembered = 10_000;

    /// <summary>The streams of <paramref name="category"/> among <paramref name="changes"/>, each with the highest version a row announces.</summary>
    private static Dictionary<string, int> AnnouncedThrough(IEnumerable<StreamChange> changes, string category) =>
        changes.Where(c => c.Category == category).GroupBy(c => c.StreamId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Max(c => c.FromVersion), StringComparer.Ordinal);

    /// <summary>The streams of <paramref name="category"/> among <paramref name="changes"/>, each with the lowest version a row announces.</summary>
    private static List<(string StreamId, int From)> StreamsOf(IEnumerable<StreamChange> changes, string category) =>
        [.. changes.Where(c => c.Category == category).GroupBy(c => c.StreamId, StringComparer.Ordinal).Select(g => (g.Key, g.Min(c => c.FromVersion)))];

    public Task<bool> CatchUp(IReadOnlyList<SiloAddress> deadSilos, long membershipVersion)
    {
        // Interleaves with a running pass: it only takes note, without awaiting anything.
        var added = false;
        foreach (var silo in deadSilos)
        {
            added |= handledSilos.Add(silo);
        }

        if (!added)
        {
            return Task.FromResult(false);
        }

        logger.LogInformation("Silo(s) {Silos} died: the statistics catch up with every change in the index.", string.Join(", ", deadSilos));
        if (!catchUpDue)
        {
            catchUpRequestedAt = time.GetTimestamp();
        }

        catchUpDue = true;
        catchUpMembershipVersion = Math.Max(catchUpMembershipVersion, membershipVersion);
        if (catchUpTimer is null)
        {
            // A timer that does not interleave: the pass runs between requests, never beside a regular pass, and is bound by no call timeout.
            catchUpTimer = this.RegisterGrainTimer(RunCatchUpsAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = false, KeepAlive = true });
        }
        else if (!catchUpRunning)
        {
            catchUpTimer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }

        return Task.FromResult(true);
    }

    public Task<CatchUpReport> CatchUps() => Task.FromResult(new CatchUpReport(catchUpPasses, handledSilos.Count, lastCatchUp, lastCatchUpDuration));

    /// <summary>Catch-up passes until none is due: a silo that died during one needs another, since the first may have fed its projections.</summary>
    private async Task RunCatchUpsAsync(CancellationToken cancellationToken)
    {
        catchUpRunning = true;
        try
        {
            while (catchUpDue && !cancellationToken.IsCancellationRequested)
            {
                catchUpDue = false;
                var requestedAt = catchUpRequestedAt;

                await RefreshMembershipAsync(cancellationToken);

                // A rebuild that ran on a dead silo starts again now rather than at the control's next watch.
                await ResumeRebuildAsync();
                lastCatchUp = await CatchUpWithRetriesAsync(cancellationToken);
                lastCatchUpDuration = time.GetElapsedTime(requestedAt);
                catchUpPasses++;
            }
        }
        finally
        {
            catchUpRunning = false;
        }
    }

    /// <summary>
    /// This silo's directory forgets the dead silos' activations once its view has them dead, as
    /// the caller's did. If the view cannot be refreshed, the pass goes ahead: what reaches a dead
    /// activation fails and is tried again.
    /// </summary>
    private async Task RefreshMembershipAsync(CancellationToken cancellationToken)
    {
        try
        {
            await membership.Refresh(new MembershipVersion(catchUpMembershipVersion), cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(exception, "Could not refresh the membership view before a catch-up; it goes ahead.");
        }
    }

    private async Task ResumeRebuildAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IProjectionControl>(0).ResumeRebuild();
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not resume a projection rebuild after a silo died; the projection control retries on its own.");
        }
    }

    /// <summary>Feeds every order in the change index; what fails is fed again shortly, then left to the regular passes.</summary>
    private async Task<ReconciliationPass> CatchUpWithRetriesAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Reconciliation;
        var soonestRetry = ParkedRetries.SoonestRetry(eventStore.Value, settings);
        var rows = 0;
        var orders = new Dictionary<string, int>(StringComparer.Ordinal);
        List<(string StreamId, int From)>? customers = null; // fed once, at the first attempt that gets that far: their rows stay for the regular passes anyway
        long events = 0;
        long repaired = 0;
        List<(string StreamId, int From)>? pending = null; // null until the index has been read
        HashSet<string>? parkedKeys = null;
        var unreadableOrders = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; attempt <= CatchUpAttempts; attempt++)
        {
            try
            {
                if (pending is null)
                {
                    (rows, orders, customers) = await ReadAllChangesAsync(cancellationToken);
                    pending = [.. orders.Select(o => (o.Key, o.Value))];
                    parkedKeys = (await GrainFactory.GetGrain<IParkedRecordsGrain>(0).List()).Records
                        .Where(r => r.Kind == ParkedKind.Projection).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
                }

                var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
                if (customers is { Count: > 0 })
                {
                    var customerFeed = new ProjectionFeed<CustomerEventEnvelope>(GrainFactory, EventCategories.Customers);
                    var unansweredCustomers = new List<(string StreamId, ParkRequest Failure)>();
                    await ReadBackAndFeedAsync(CustomerEventSource.Instance, customers, generations, customerFeed, soonestRetry, unanswered: unansweredCustomers);
                    FailIfStorageAnsweredNone(unansweredCustomers, customers.Count, "customers");
                    events += customerFeed.Persisted;
                    repaired += customerFeed.Repaired;
                    Measure(customerFeed.Persisted, customerFeed.Repaired, "catch-up");
                    customers = [];
                }

                var feed = new ProjectionFeed<OrderEventEnvelope>(GrainFactory, EventCategories.Orders);
                var unanswered = new List<(string StreamId, ParkRequest Failure)>();
                var unreadable = await ReadBackAndFeedAsync(OrderEventSource.Instance, pending, generations, feed, soonestRetry, unanswered: unanswered);
                events += feed.Persisted;
                repaired += feed.Repaired;
                Measure(feed.Persisted, feed.Repaired, "catch-up");
                FailIfStorageAnsweredNone(unanswered, pending.Count, "orders");

                // An order whose reads storage did not answer (one the regular passes park and announce again for each
                // retry, so nearly always in the index) no longer fails every attempt: its rows stay for those passes.
                unreadableOrders.UnionWith(unreadable.Concat(unanswered).Select(u => u.StreamId));
                var failed = feed.FailedStreams.ToHashSet(StringComparer.Ordinal);

                // Projections parked already fail for their own reasons: trying them again at once would only delay the pass.
                var transient = feed.Failures.Any(f => !parkedKeys!.Contains(f.Key));
                if (!transient || attempt == CatchUpAttempts)
                {
                    var left = failed.Union(unreadableOrders).Count();
                    logger.Log(left == 0 ? LogLevel.Information : LogLevel.Warning,
                        "Statistics caught up after a silo died: {Changes} changes of {Orders} orders read back, {Events} events fed, {Left} orders left to the regular reconciliation.",
                        rows, orders.Count, events, left);
                    return new ReconciliationPass(rows, orders.Count, events, left, Repaired: repaired);
                }

                pending = [.. pending.Where(o => failed.Contains(o.StreamId))];
            }
            catch (Exception exception) when (attempt < CatchUpAttempts && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "A catch-up pass after a silo died failed (attempt {Attempt}); trying again.", attempt);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "A catch-up pass after a silo died failed; the regular reconciliation counts what was lost once its changes settle.");
                return new ReconciliationPass(rows, orders.Count, events, orders.Count, Repaired: repaired);
            }

            await Task.Delay(TimeSpan.FromSeconds(attempt), time, cancellationToken);
        }

        throw new UnreachableException();
    }

    /// <summary>
    /// A catch-up leaves a stream whose reads storage did not answer to the regular passes (its
    /// rows stay); storage answering none of several fails the attempt, to be tried again.
    /// </summary>
    private static void FailIfStorageAnsweredNone(List<(string StreamId, ParkRequest Failure)> unanswered, int streams, string kind)
    {
        if (unanswered.Count > 1 && unanswered.Count == streams)
        {
            throw new StorageUnavailableException($"Storage answered the reads of none of the {streams} {kind} to catch up with.");
        }
    }

    /// <summary>Every change row, settled or not, in pages: their number, each order with the lowest version any row announces, and likewise each customer.</summary>
    private async Task<(int Rows, Dictionary<string, int> Orders, List<(string StreamId, int From)> Customers)> ReadAllChangesAsync(CancellationToken cancellationToken)
    {
        var rows = 0;
        var orders = new Dictionary<string, int>(StringComparer.Ordinal);
        var customerRows = new List<StreamChange>();
        string? continuation = null;
        do
        {
            var page = await changes.ReadPageAsync(continuation, CatchUpPageSize, cancellationToken);
            foreach (var change in page.Changes.Where(c => c.Category == StreamCategories.Order))
            {
                orders[change.StreamId] = orders.TryGetValue(change.StreamId, out var from) ? Math.Min(from, change.FromVersion) : change.FromVersion;
            }

            customerRows.AddRange(page.Changes.Where(c => c.Category == CustomerEventSource.CategoryName));
            rows += page.Changes.Count;
            continuation = page.Continuation;
        }
        while (continuation is not null);
        return (rows, orders, StreamsOf(customerRows, CustomerEventSource.CategoryName));
    }

    private static void Measure(long persisted, long repaired, string pass)
    {
        var tag = new KeyValuePair<string, object?>(OrderFlowTelemetry.ReconciliationPassTag, pass);
        OrderFlowTelemetry.ReconciliationEvents.Add(persisted, tag);
        OrderFlowTelemetry.ReconciliationRepairs.Add(repaired, tag);
    }
}
