using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Grains.Projections.Reconciliation;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Statistics;
using OrderFlow.Projections;
using OrderFlow.Streams;
using Orleans.Runtime;
using Orleans.Serialization.Invocation;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>
/// A projection grain that writes behind: it counts in memory and <see cref="Changed"/> marks it;
/// its state is persisted (by <see cref="PersistAsync"/>) every
/// <see cref="StatisticsOptions.FlushInterval"/>, on <see cref="Flush"/>, on deactivation and when
/// the silo shuts down. What a crash takes with it is counted again by the reconciliation
/// (<see cref="ProjectionReconcilerGrain"/>), which feeds through <see cref="IngestAndPersist"/>.
/// </summary>
/// <remarks>
/// <para>
/// A grain may let live batches (<see cref="IngestBatch"/>) and its queries run while a flush
/// awaits storage (<see cref="Orleans.Concurrency.MayInterleaveAttribute"/> with
/// <see cref="MayCountWhileFlushing"/>), so that neither waits for storage. Such a grain's flush
/// must take what it persists before its first await and must not take the state's changes after
/// an await as persisted (<see cref="Changed"/> marks them again).
/// </para>
/// <para>
/// The invariant that makes counting during a flush safe: every event a batch counted while a
/// flush was under way is counted again (once, into the state as the flush left it) when that
/// flush ends, whether it succeeded or failed. Counting is idempotent, so this changes nothing
/// when the event is where it was counted; and when the flush replaced the state object it had
/// counted into (the re-read after an ETag conflict, <see cref="OwnStateWrites"/>), the event is
/// counted into the state that is kept instead of being lost with the one that is not. An event is
/// thus never lost (it is in the state the next write persists) nor counted twice (the count is
/// keyed by stream and version). A grain that is deactivating counts nothing more: the batch
/// fails and the stream delivers it again to the next activation, since what it counted after
/// its last flush began would be gone with it.
/// </para>
/// </remarks>
public abstract class WriteBehindProjectionGrain(UnflushedProjections unflushed, IOptions<StatisticsOptions> options, ILogger logger)
    : Grain, IWriteBehindProjection
{
    private bool dirty;

    /// <summary>A flush is awaiting storage: what a batch counts meanwhile is recorded in <see cref="countedWhileFlushing"/>.</summary>
    private bool flushing;

    /// <summary>The events batches counted while the flush under way awaited, as counts to make again when it ends.</summary>
    private readonly List<Func<bool>> countedWhileFlushing = [];

    private bool deactivating;

    /// <summary>
    /// Another activation of the grain wrote its state (<see cref="ProjectionSupersededException"/>):
    /// this one counts and writes nothing more, and is deactivating. What it counted since its last
    /// flush is counted again by the next activation (the streams deliver again what it refuses, the
    /// reconciliation feeds what it took).
    /// </summary>
    private bool superseded;

    private bool reportedTooLarge;

    /// <summary>Flushes that failed in a row; the timer's next attempt waits until <see cref="nextAttempt"/>.</summary>
    private int consecutiveFailures;

    private DateTimeOffset nextAttempt;

    /// <summary>Unparks that failed in a row since the grain persisted again; the next is not tried before <see cref="nextUnpark"/>.</summary>
    private int unparkFailures;

    private DateTimeOffset nextUnpark;

    /// <summary>This activation parked the grain (<see cref="ParkedRecordsGrain"/>) and unparks it when a flush succeeds.</summary>
    private bool parked;

    /// <summary>
    /// Events whose count threw in this activation, by category, stream and version, with why: a
    /// retry fails them again rather than count them, since a count that throws (a projection's
    /// bug, not a bad record: <see cref="EventCategory{TEnvelope}.DefectOf"/> fails those before
    /// any change) may have marked and partly applied the event. Never counted twice; a later
    /// activation, which finds it marked, takes it as counted.
    /// </summary>
    private readonly Dictionary<(string Category, string StreamId, int Version), string> uncountable = [];

    protected StatisticsOptions Settings => options.Value;

    private IGrainTimer? flushTimer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        flushTimer = this.RegisterGrainTimer(FlushTickAsync, UntilNextFlushTick(), Settings.FlushInterval);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A tick of the flush timer. Ticks fall on multiples of <see cref="StatisticsOptions.FlushInterval"/>
    /// of the clock, in every grain: their writes reach the storage together, and go in one
    /// transaction per partition (<see cref="Storage.PartitionGroupCommit"/>). A timer's period
    /// counts from the end of a tick, so each tick sets the next.
    /// </summary>
    private async Task FlushTickAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken, rethrow: false, timer: true);
        }
        finally
        {
            flushTimer?.Change(UntilNextFlushTick(), Settings.FlushInterval);
        }
    }

    private TimeSpan UntilNextFlushTick()
    {
        var interval = Settings.FlushInterval;
        var until = interval - TimeSpan.FromTicks(Time.GetUtcNow().UtcTicks % interval.Ticks);
        return until < interval / 20 ? until + interval : until; // a tick that fired a little early does not fire again at once
    }

    /// <summary>
    /// The last flush: whatever it cannot persist is gone with the activation (the reconciliation
    /// counts it again), so the silo stops tracking the grain either way.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        deactivating = true;
        try
        {
            await FlushAsync(cancellationToken, rethrow: false, timer: false);
        }
        finally
        {
            unflushed.Remove(this.GetGrainId());
        }
    }

    public Task IngestBatch(IReadOnlyList<OrderEventEnvelope> envelopes) => CountBatchAsync(envelopes, Count, EventCategories.Orders);

    /// <summary>
    /// <see cref="IProjectionInput{TEnvelope}.IngestBatch"/> for any category: a projection that
    /// also consumes another category implements that input with this and its own count.
    /// </summary>
    /// <exception cref="InvalidOperationException">The grain is deactivating: nothing was counted, the batch must be delivered again.</exception>
    protected async Task CountBatchAsync<TEnvelope>(IReadOnlyList<TEnvelope> envelopes, Func<TEnvelope, bool> count, EventCategory<TEnvelope> category)
    {
        if (deactivating || superseded)
        {
            throw new InvalidOperationException($"{this.GetGrainId()} is deactivating and counts nothing more; deliver the batch again.");
        }

        foreach (var envelope in envelopes)
        {
            try
            {
                ThrowIfDefective(category, envelope);
                count(envelope);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "{Grain} could not count an event of a live batch; the reconciliation counts it or parks it.", this.GetGrainId());
                Remember(category.IdentityOf(envelope) is var (streamId, version) ? (category.Name, streamId, version) : default, exception);
                continue;
            }

            if (flushing)
            {
                countedWhileFlushing.Add(() => count(envelope));
            }
        }

        await AfterBatchAsync();
    }

    /// <summary>Called once a live batch is counted (in memory): what the projection shows beyond itself before its next flush.</summary>
    protected virtual Task AfterBatchAsync() => Task.CompletedTask;

    /// <summary>
    /// For <see cref="Orleans.Concurrency.MayInterleaveAttribute"/> of a grain whose flush is safe to
    /// count during (see the remarks): live batches interleave with a flush under way.
    /// </summary>
    protected static bool IsLiveBatch(IInvokable request) => request.GetMethodName() == nameof(IngestBatch);

    /// <summary>Counts the event into the state in memory unless it was counted before; true when it was counted now.</summary>
    protected abstract bool Count(OrderEventEnvelope envelope);

    /// <summary>
    /// Counts an event read back from the log (the reconciliation's and the rebuild's, a stream's
    /// events from a version to its end, in order) unless it was counted before; by default as a
    /// live one.
    /// </summary>
    protected virtual bool CountReadBack(OrderEventEnvelope envelope) => Count(envelope);

    public Task<IngestOutcome> IngestAndPersist(IReadOnlyList<OrderEventEnvelope> envelopes) =>
        CountAndPersistAsync(envelopes, CountReadBack, EventCategories.Orders);

    /// <summary>
    /// <see cref="IProjectionInput{TEnvelope}.IngestAndPersist"/> for any category: a projection
    /// that also consumes another category implements that input with this and its own count.
    /// </summary>
    /// <param name="category">The envelopes' category, which names their streams: an event that cannot be counted leaves the rest of its stream uncounted, so that streams are counted in order.</param>
    protected async Task<IngestOutcome> CountAndPersistAsync<TEnvelope>(
        IReadOnlyList<TEnvelope> envelopes, Func<TEnvelope, bool> count, EventCategory<TEnvelope> category)
    {
        var countedNow = new List<int>();
        var failed = new List<int>();
        HashSet<string>? failedStreams = null;
        Dictionary<int, string>? reasons = null;
        for (var i = 0; i < envelopes.Count; i++)
        {
            var identity = category.IdentityOf(envelopes[i]);
            if (failedStreams?.Contains(identity.StreamId) == true)
            {
                failed.Add(i);
                continue;
            }

            try
            {
                ThrowIfDefective(category, envelopes[i]);
                if (uncountable.Count > 0 && uncountable.TryGetValue((category.Name, identity.StreamId, identity.Version), out var before))
                {
                    throw new InvalidOperationException($"Its count failed before in this activation ({before}).");
                }

                if (count(envelopes[i]))
                {
                    countedNow.Add(i);
                }
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "{Grain} could not count version {Version} of {StreamId} read back from the log; it and the rest of that stream are left to be retried and parked.",
                    this.GetGrainId(), identity.Version, identity.StreamId);
                Remember((category.Name, identity.StreamId, identity.Version), exception);
                (failedStreams ??= new(StringComparer.Ordinal)).Add(identity.StreamId);
                failed.Add(i);
                (reasons ??= [])[i] = $"{this.GetGrainId()} cannot count it: {Describe(exception)}";
            }
        }

        await Flush();
        return new IngestOutcome([.. countedNow], [.. failed], reasons);
    }

    /// <summary>Fails a bad record before the projection's count can change any of its state.</summary>
    private static void ThrowIfDefective<TEnvelope>(EventCategory<TEnvelope> category, TEnvelope envelope)
    {
        if (category.DefectOf(envelope) is { } defect)
        {
            throw new BadRecordException($"The event has {defect}.");
        }
    }

    /// <summary>A bad record, refused before any change: not remembered, so that the record, once mended, counts.</summary>
    private sealed class BadRecordException(string message) : Exception(message);

    /// <summary>Events remembered as uncountable; beyond, a retry calls the count again.</summary>
    private const int MaxUncountable = 1_000;

    private void Remember((string Category, string StreamId, int Version) key, Exception exception)
    {
        if (exception is not BadRecordException && uncountable.Count < MaxUncountable)
        {
            uncountable.TryAdd(key, Describe(exception));
        }
    }

    private static string Describe(Exception exception) => $"{exception.GetType().Name}: {exception.Message}";

    public Task Flush() => FlushAsync(CancellationToken.None, rethrow: true, timer: false);

    /// <summary>The state changed in memory: persist it at the next flush.</summary>
    protected void Changed()
    {
        dirty = true;
        unflushed.Add(this.GetGrainId());
    }

    /// <summary>Writes the state (and whatever goes with it) to storage.</summary>
    protected abstract Task PersistAsync(CancellationToken cancellationToken);

    /// <param name="timer">A tick of the flush timer: it backs off after failures, and parks the grain when they go on.</param>
    private async Task FlushAsync(CancellationToken cancellationToken, bool rethrow, bool timer)
    {
        if (superseded)
        {
            if (rethrow)
            {
                // A reconciliation's flush must not take what it fed for stored.
                throw new ProjectionSupersededException($"{this.GetGrainId()} was superseded by another activation and writes nothing more.");
            }

            return;
        }

        if (!dirty)
        {
            if (parked && (!timer || Time.GetUtcNow() >= nextUnpark))
            {
                await RecoveredAsync(); // persisted, but the unpark failed: tried again, backing off, and at the last flush
            }

            return;
        }

        // After a failure, the timer backs off; an explicit flush (a reconciliation's) and the last one always try.
        var now = Time.GetUtcNow();
        if (timer && consecutiveFailures > 0 && now < nextAttempt)
        {
            return;
        }

        dirty = false;
        flushing = true;
        try
        {
            await PersistAsync(cancellationToken);
            if (!dirty)
            {
                unflushed.Remove(this.GetGrainId());
            }

            await RecoveredAsync();
        }
        catch (Exception exception)
        {
            dirty = true; // tried again at a later tick
            if (exception is OperationCanceledException)
            {
                throw;
            }

            if (exception is ProjectionSupersededException)
            {
                superseded = true; // OwnStateWrites deactivates the grain
                logger.LogWarning("{Grain} stops: {Reason}", this.GetGrainId(), exception.Message);
                if (rethrow)
                {
                    throw;
                }

                return;
            }

            await FailedAsync(exception, now, parkIfDue: timer);
            if (rethrow)
            {
                throw;
            }
        }
        finally
        {
            CountAgainWhatWasCountedWhileFlushing();
        }
    }

    /// <summary>The invariant of the remarks: what batches counted while the flush awaited is counted into the state the flush left.</summary>
    private void CountAgainWhatWasCountedWhileFlushing()
    {
        flushing = false;
        foreach (var countAgain in countedWhileFlushing)
        {
            try
            {
                countAgain();
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "{Grain} could not count again an event counted while it flushed; the reconciliation counts it or parks it.", this.GetGrainId());
            }
        }

        countedWhileFlushing.Clear();
    }

    private TimeProvider Time => ServiceProvider.GetRequiredService<TimeProvider>();

    private ParkingOptions Parking => ServiceProvider.GetRequiredService<IOptions<ParkingOptions>>().Value;

    /// <summary>
    /// A failed flush: said once (not at every tick), the next tick backs off (doubling from the
    /// flush interval), and after <see cref="ParkingOptions.FlushFailuresBeforeParking"/> in a row
    /// the grain parks itself, so that it shows in GET /api/admin/parked and in health.
    /// </summary>
    private async Task FailedAsync(Exception exception, DateTimeOffset now, bool parkIfDue)
    {
        consecutiveFailures++;
        var backoff = ParkingOptions.Doubling(Settings.FlushInterval, TimeSpan.FromTicks(Math.Max(Parking.MaxRetry.Ticks, Settings.FlushInterval.Ticks)), consecutiveFailures);
        nextAttempt = now + backoff;
        if (exception is ProjectionStateTooLargeException)
        {
            // Every flush fails the same way: said once per activation, with the state that outgrew its entity.
            if (!reportedTooLarge)
            {
                logger.LogError(exception, "Statistics of {Grain} are no longer persisted: {Reason}", this.GetGrainId(), exception.Message);
                reportedTooLarge = true;
            }
        }
        else if (consecutiveFailures == 1)
        {
            logger.LogWarning(exception, "Statistics of {Grain} could not be persisted; retrying with back-off.", this.GetGrainId());
        }
        else
        {
            logger.LogDebug("Statistics of {Grain} could not be persisted ({Failures} failures in a row): {Reason}", this.GetGrainId(), consecutiveFailures, exception.Message);
        }

        if (!parkIfDue || consecutiveFailures < Parking.FlushFailuresBeforeParking)
        {
            return;
        }

        var key = this.GetGrainId().ToString();
        try
        {
            // From here on the grain retries when the parked list says it will.
            var retries = await GrainFactory.GetGrain<IParking>(0).Park([new ParkRequest(
                ParkedKind.Projection, key, ProjectionRegistry.Describe(key),
                $"{consecutiveFailures} flushes in a row failed, the last with: {exception.Message} Its counts are held in memory and written when a flush succeeds.",
                backoff)]);
            nextAttempt = retries[0];
            parked = true;
        }
        catch (Exception parking)
        {
            logger.LogDebug(parking, "Could not park {Grain}.", this.GetGrainId());
        }
    }

    private async Task RecoveredAsync()
    {
        if (consecutiveFailures > 0)
        {
            logger.LogInformation("Statistics of {Grain} are persisted again after {Failures} failed flushes.", this.GetGrainId(), consecutiveFailures);
            consecutiveFailures = 0;
        }

        if (!parked)
        {
            return;
        }

        try
        {
            await GrainFactory.GetGrain<IParking>(0).Resolve(ParkedKind.Projection, [this.GetGrainId().ToString()]);
            parked = false;
            unparkFailures = 0;
        }
        catch (Exception exception)
        {
            // Tried again once the back-off has passed (and the reconciliation resolves it when it next feeds this grain).
            unparkFailures++;
            nextUnpark = Time.GetUtcNow() + Parking.Backoff(unparkFailures);
            logger.LogDebug(exception, "Could not unpark {Grain}.", this.GetGrainId());
        }
    }
}
