using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.EventSourcing;
using Orleans.EventSourcing.CustomStorage;
using Orleans.Providers;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;
using Orleans.Runtime;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// The order aggregate. Its events live in the order's own partition of the event log
/// (<see cref="TableEventStore"/>); its state is their fold.
/// </summary>
/// <remarks>
/// <para>
/// The grain does its storage I/O itself and hands the results to JournaledGrain through
/// <see cref="ICustomStorageInterface{TState,TEvent}"/>. The reason: JournaledGrain retries a failed
/// read or write in the background until storage answers, so a command would hang for Orleans'
/// 30 s call timeout and then possibly be written after the caller was told it failed. Doing the
/// I/O first lets a command fail fast (<see cref="Storage.StorageUnavailableException"/>) having
/// written nothing, and lets a version conflict re-validate the command against fresh state.
/// </para>
/// <para>
/// Activation reads nothing: the view starts as "assumed new" at version 0. A placement appends
/// against that assumption (its insert fails if the order exists), so a new order reads nothing
/// (it writes its change-index announcement and its append); every other command and query of a
/// fresh activation loads the log first.
/// </para>
/// <para>
/// Every append replaces the stream's head row conditional on the ETag this activation last saw,
/// so an append fails unless storage still holds what the activation confirmed. When storage lost
/// writes (a restore, an account failover to its recovery point), the activation finds the log
/// behind its cache: it goes by the log, says so loudly, and asks for the projections to be
/// re-derived from the log (<see cref="IProjectionControl.RequestRepair"/>), which counted events
/// that are gone. A refusal is only given after checking the head, so that it too is judged
/// against what storage holds.
/// </para>
/// </remarks>
[LogConsistencyProvider(ProviderName = LogConsistencyProviderName)]
public sealed class OrderGrain : JournaledGrain<OrderState, OrderEvent>, IOrderGrain, ICustomStorageInterface<OrderState, OrderEvent>
{
    public const string LogConsistencyProviderName = "EventLog";

    /// <summary>How often a command is re-validated after losing a race to another writer before giving up.</summary>
    private const int MaxConflictRetries = 5;

    /// <summary>Tries of a projection repair request, a second apart and doubling (about a minute in all).</summary>
    private const int RepairRequestAttempts = 7;

    /// <summary>The <see cref="UniqueKeyRecord.Kind"/> of the order's refund rows: refund id → amount.</summary>
    private const string RefundKeyKind = "refund";

    private readonly TableEventStore store;
    private readonly ChangeAnnouncer changes;
    private readonly TimeProvider time;
    private readonly ILogger<OrderGrain> logger;
    private readonly int snapshotInterval;
    private readonly StorageRollbacks rollbacks;
    private readonly PersonalDataProtector personalData;

    private bool activationReadDone;
    private bool viewIsVerified;

    /// <summary>The log as last loaded held personal data that was erased (it reads as null in <see cref="JournaledGrain{TState,TEvent}.State"/>).</summary>
    private bool personalDataErased;

    /// <summary>The storage rollbacks this silo had noticed when the view was last verified (see <see cref="ViewIsVerified"/>).</summary>
    private long rollbacksSeen;

    /// <summary>The change-index bucket this activation has announced its appends in (see <see cref="WriteAsync"/>).</summary>
    private string? announcedIn;

    /// <summary>The order's head row as this activation last read or wrote it; a new activation assumes a new order, which has none.</summary>
    private ExpectedHead head = ExpectedHead.None;

    /// <summary>Every version up to this one has been published to the order-event stream.</summary>
    private int publishedThrough;

    /// <summary>
    /// A publication of this activation failed and is still owed: the marker stored with its append
    /// was written before it was tried, so a reload must not take that marker's word for it.
    /// </summary>
    private bool publicationOwed;
    private KeyValuePair<int, OrderState>? loadedForAdaptor;
    private (int ExpectedVersion, IReadOnlyList<OrderEvent> Events)? appendedForAdaptor;

    public OrderGrain(
        TableEventStore store,
        ChangeAnnouncer changes,
        IOptions<EventStoreOptions> options,
        StorageRollbacks rollbacks,
        PersonalDataProtector personalData,
        TimeProvider time,
        ILogger<OrderGrain> logger)
    {
        this.store = store;
        this.personalData = personalData;
        this.rollbacks = rollbacks;
        rollbacksSeen = rollbacks.Count;
        this.changes = changes;
        this.time = time;
        this.logger = logger;
        snapshotInterval = Math.Max(1, options.Value.SnapshotInterval);
    }

    private string OrderId => this.GetPrimaryKeyString();

    /// <summary>
    /// The view was read from or written to storage, and storage has not been seen losing writes
    /// since: it can answer without reading the log again.
    /// </summary>
    private bool ViewIsVerified
    {
        get
        {
            if (rollbacksSeen != rollbacks.Count)
            {
                rollbacksSeen = rollbacks.Count;
                viewIsVerified = false;
            }

            return viewIsVerified;
        }
    }

    public async Task<CommandResult> Execute(OrderCommand command, CommandMetadata metadata)
    {
        var outcome = "failed";
        try
        {
            var result = await ExecuteAsync(command, metadata);
            outcome = result.Error is { } error ? error.Code.ToString().ToLowerInvariant()
                : result.Replayed ? "replayed"
                : "applied";
            return result;
        }
        catch (Storage.StorageUnavailableException)
        {
            outcome = "unavailable";
            throw;
        }
        finally
        {
            OrderFlowTelemetry.Commands.Add(1,
                new KeyValuePair<string, object?>(OrderFlowTelemetry.CommandTypeTag, command.GetType().Name),
                new KeyValuePair<string, object?>(OrderFlowTelemetry.CommandOutcomeTag, outcome));
        }
    }

    private async Task<CommandResult> ExecuteAsync(OrderCommand command, CommandMetadata metadata)
    {
        var requestHash = metadata.IdempotencyKey is null ? null : RequestHash(command);
        for (var attempt = 1; attempt <= MaxConflictRetries; attempt++)
        {
            // A placement on a new activation reads nothing; one that the unverified view would refuse reads the log.
            if (!ViewIsVerified && (command is not PlaceOrder || State.Exists))
            {
                await ReloadAsync();
            }

            if (metadata.IdempotencyKey is { } key && ViewIsVerified
                && await store.FindIdempotencyRecordAsync(OrderId, key) is { } record)
            {
                return await ReplayAsync(record, requestHash!);
            }

            var decision = await DecideAsync(command, afterConflict: attempt > 1);
            if ((decision.AlreadyApplied || decision.Error is { Code: not CommandErrorCode.Validation }) && await HeadMovedAsync())
            {
                // The answer would come from a view storage no longer holds: decide again on a fresh one.
                await ReloadAsync();
                continue;
            }

            if (decision.Error is { } error)
            {
                return new CommandResult(null, error);
            }

            if (decision.AlreadyApplied)
            {
                return CommandResult.Success(await ViewAsync(State, Version, personalDataErased), replayed: true);
            }

            try
            {
                var expectedVersion = Version;
                var eventIds = await WriteAsync(expectedVersion, decision.Events, metadata, requestHash, publishes: true);
                var recordedAt = time.GetUtcNow();
                var envelopes = OrderEventEnvelopes.Build(State, decision.Events, expectedVersion + 1, eventIds)
                    .ConvertAll(envelope => envelope with { RecordedAt = recordedAt });

                // Durable now: hand the batch to JournaledGrain, which folds it into State.
                appendedForAdaptor = (expectedVersion, decision.Events);
                try
                {
                    if (!await RaiseConditionalEvents(decision.Events))
                    {
                        throw new InvalidOperationException($"Order '{OrderId}' appended version {expectedVersion + 1} but JournaledGrain refused to confirm it.");
                    }
                }
                finally
                {
                    appendedForAdaptor = null;
                }

                viewIsVerified = true;
                await PublishAsync(envelopes);
                return CommandResult.Success(await ViewAsync(State, Version, personalDataErased));
            }
            catch (ConcurrencyConflictException conflict)
            {
                logger.LogInformation("Order {OrderId}: {Message} Reloading and re-validating (attempt {Attempt}).", OrderId, conflict.Message, attempt);
                await ReloadAsync();
            }
            catch (EventTooLargeException tooLarge)
            {
                return CommandResult.Refused(CommandErrorCode.TooLarge, tooLarge.Message);
            }
            catch (PersonalDataErasedException erased)
            {
                return CommandResult.Refused(CommandErrorCode.Unprocessable, erased.Message);
            }
            catch (Storage.StorageUnavailableException)
            {
                // If storage stopped answering mid-append, the append may still land: stop trusting
                // the cached view, so the next call reads what the log really holds.
                viewIsVerified = false;
                throw;
            }
        }

        return CommandResult.Refused(
            CommandErrorCode.Concurrency,
            $"Order '{OrderId}' kept changing under this command ({MaxConflictRetries} attempts); nothing was written. Retry the request.");
    }

    public async Task<OrderView?> Get()
    {
        if (!ViewIsVerified)
        {
            await ReloadAsync();
        }

        return State.Exists ? await ViewAsync(State, Version, personalDataErased) : null;
    }

    public async Task<OrderView?> GetAtVersion(int version)
    {
        if (version < 1)
        {
            return null;
        }

        if (ViewIsVerified && version >= Version)
        {
            return version == Version && State.Exists ? await ViewAsync(State, Version, personalDataErased) : null;
        }

        var (slice, erased) = await RevealAsync(await store.LoadAtVersionAsync(OrderId, version));
        return slice.Version == version && OrderState.Fold(slice) is { Exists: true } state ? await ViewAsync(state, version, erased) : null;
    }

    public async Task<OrderView?> GetAsOf(DateTimeOffset asOf)
    {
        var (slice, erased) = await RevealAsync(await store.LoadAsOfAsync(OrderId, asOf));
        return OrderState.Fold(slice) is { Exists: true } state ? await ViewAsync(state, slice.Version, erased) : null;
    }

    public async Task<EventPage?> GetEvents(int fromVersion, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromVersion, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (!ViewIsVerified)
        {
            await ReloadAsync();
        }

        if (!State.Exists)
        {
            return null;
        }

        var events = await store.ReadEventsAsync(OrderId, fromVersion, limit + 1);
        var keys = new Dictionary<string, byte[]?>();
        var page = new List<RecordedEvent>(Math.Min(limit, events.Count));
        foreach (var e in events.Take(limit))
        {
            var data = OrderEventSerializer.ClrTypeOf(e.Type) is { } type
                ? await personalData.RevealAsync(e.Data, type, OrderEventSerializer.Json, keys)
                : new RevealedJson(e.Data, Erased: false);
            page.Add(new RecordedEvent(
                e.Version, e.EventId, e.Type, e.SchemaVersion, e.OccurredAt, e.RecordedAt, e.CorrelationId, e.CausationId, data.Json, data.Erased));
        }

        return new EventPage([.. page], events.Count > limit ? events[limit].Version : null);
    }

    protected override void TransitionState(OrderState state, OrderEvent @event) => state.Apply(@event);

    async Task<KeyValuePair<int, OrderState>> ICustomStorageInterface<OrderState, OrderEvent>.ReadStateFromStorage()
    {
        if (loadedForAdaptor is { } loaded)
        {
            loadedForAdaptor = null;
            return loaded;
        }

        if (!activationReadDone)
        {
            // Activation: assume a new order; see the remarks on the class.
            activationReadDone = true;
            return new(0, new OrderState());
        }

        var slice = await store.LoadLatestAsync(OrderId);
        Loaded(slice);
        (slice, personalDataErased) = await RevealAsync(slice);
        viewIsVerified = true;
        return new(slice.Version, OrderState.Fold(slice));
    }

    async Task<bool> ICustomStorageInterface<OrderState, OrderEvent>.ApplyUpdatesToStorage(IReadOnlyList<OrderEvent> updates, int expectedVersion)
    {
        if (appendedForAdaptor is { } appended && appended.ExpectedVersion == expectedVersion
            && appended.Events.SequenceEqual(updates, ReferenceEqualityComparer.Instance))
        {
            return true; // Execute already appended exactly these events at this version.
        }

        // Events raised any other way are appended here, with the same conflict semantics.
        try
        {
            await WriteAsync(expectedVersion, [.. updates], CommandMetadata.None, requestHash: null, publishes: false);
            return true;
        }
        catch (ConcurrencyConflictException)
        {
            return false;
        }
    }

    /// <summary>
    /// Decides <paramref name="command"/> on the current view. A refund id recorded before has its
    /// row in the order's partition, read only when the answer can depend on it: when the decision
    /// would not append (a repeat's answer is not a refusal), or after a conflict, which the insert
    /// of that row raises when an append repeats a recorded id. A new refund id costs no read.
    /// </summary>
    private async Task<OrderDecision> DecideAsync(OrderCommand command, bool afterConflict)
    {
        var now = time.GetUtcNow();
        var decision = OrderDecider.Decide(State, OrderId, command, now);
        if (command is RefundOrder { RefundId: { } refundId } && !decision.AlreadyApplied
            && (afterConflict || decision.Error is { Code: not (CommandErrorCode.Validation or CommandErrorCode.NotFound) })
            && await store.FindUniqueKeyAsync(OrderId, RefundKeyKind, refundId) is { } recorded)
        {
            decision = OrderDecider.Decide(State, OrderId, command, now, decimal.Parse(recorded, CultureInfo.InvariantCulture));
        }

        return decision;
    }

    /// <summary>
    /// Appends one command's events, with a row per refund id they record, a snapshot when they
    /// cross a multiple of the snapshot interval, and the publication marker, in one transaction.
    /// Returns the events' ids.
    /// </summary>
    /// <param name="publishes">The caller publishes the events once appended (see the marker below).</param>
    /// <remarks>
    /// The first append of this activation in a change-index bucket is announced in the
    /// <see cref="ChangeIndex"/> first (in a group with other orders', <see cref="ChangeAnnouncer"/>),
    /// so that the projections' reconciliation finds it even if this silo dies before publishing and
    /// the order is never loaded again. A later append in the same bucket is covered by that row,
    /// which the reconciliation reads only after the bucket has ended and settled.
    /// </remarks>
    private async Task<List<Guid>> WriteAsync(int expectedVersion, ImmutableArray<OrderEvent> events, CommandMetadata metadata, string? requestHash, bool publishes)
    {
        var rows = new List<EventToAppend>(events.Length);
        string? causation = metadata.CausationId;
        foreach (var @event in events)
        {
            // Sealed before anything is written: a key table that does not answer fails the command with nothing stored.
            var data = await personalData.ProtectAsync(
                OrderEventSerializer.Serialize(@event), @event.GetType(), OrderEventSerializer.Json, SubjectOf(@event), WhenErased.Refuse);
            var eventId = Guid.CreateVersion7(time.GetUtcNow());
            rows.Add(new EventToAppend(
                eventId,
                OrderEventSerializer.TypeName(@event),
                OrderEventSerializer.SchemaVersionOf(@event),
                @event.OccurredAt,
                metadata.CorrelationId,
                causation,
                data));
            causation = eventId.ToString(); // a command's later events are caused by its first (a cancellation's refund)
        }

        var newVersion = expectedVersion + events.Length;
        Snapshot? snapshot = null;
        if (newVersion / snapshotInterval > expectedVersion / snapshotInterval)
        {
            var next = State.Copy();
            foreach (var @event in events)
            {
                next.Apply(@event);
            }

            // An address revealed before its customer's erasure and still in memory is written as erased.
            var data = await personalData.ProtectAsync(
                OrderEventSerializer.SerializeState(next), typeof(OrderState), OrderEventSerializer.Json, next.CustomerId, WhenErased.WriteErasedMarker);
            snapshot = new Snapshot(newVersion, OrderEventSerializer.SnapshotType, OrderEventSerializer.SnapshotSchemaVersion, next.UpdatedAt, data);
        }

        List<UniqueKeyRecord> refunds = [.. events.OfType<OrderRefunded>().Select(refund =>
            new UniqueKeyRecord(RefundKeyKind, refund.RefundId, refund.Amount.ToString(CultureInfo.InvariantCulture)))];

        // How far the stream will have been published once this command is done: through its own
        // events when every earlier version was, so that a load finds nothing to publish again. If
        // the publication is then lost (the silo dies, the stream fails), the reconciliation delivers
        // it: the change index announces this append. An activation that knows of versions it did
        // not publish writes only as far as it got, and publishes them with its next command.
        var marker = publishes && publishedThrough >= expectedVersion ? newVersion : publishedThrough;

        var idempotency = metadata.IdempotencyKey is { } key ? new IdempotencyRecord(key, requestHash!, newVersion) : null;
        if (changes.BucketOf(time.GetUtcNow()) != announcedIn)
        {
            announcedIn = await changes.AnnounceAsync(OrderId, expectedVersion + 1);
        }

        var written = await store.AppendAsync(OrderId, expectedVersion, rows, snapshot, idempotency, marker, head, refunds);
        head = written is null ? ExpectedHead.Unknown : ExpectedHead.Of(written);
        return [.. rows.Select(row => row.EventId)];
    }

    /// <summary>
    /// Publishes confirmed events to the order-event stream, in version order and without a gap:
    /// versions an earlier publication of this activation failed to deliver are read back and go
    /// first. A failure is logged, not thrown: the events are durable, the reconciliation delivers
    /// them (their append was announced in the change index), and this activation publishes them
    /// with its next command or reload, writing markers short of them meanwhile (consumers count
    /// each event once).
    /// </summary>
    private async Task PublishAsync(IReadOnlyList<OrderEventEnvelope> envelopes)
    {
        if (envelopes.Count == 0)
        {
            return;
        }

        // The publication's context travels in each envelope: the projections' span joins this trace.
        using var publishing = OrderFlowTelemetry.ActivitySource.StartActivity(OrderFlowTelemetry.PublishActivity, ActivityKind.Producer);
        publishing?.SetTag("orderflow.order.id", OrderId);
        var traceParent = OrderFlowTelemetry.TraceParentOf(publishing ?? Activity.Current);
        try
        {
            var owed = envelopes[0].Version - 1 - publishedThrough;
            if (owed > 0)
            {
                envelopes = [.. await OrderEventEnvelopes.ReadAfterAsync(store, OrderId, publishedThrough, owed), .. envelopes];
            }

            var stream = this.GetStreamProvider(OrderEventStreams.ProviderName).GetStream<OrderEventEnvelope>(
                StreamId.Create(OrderEventStreams.Namespace, OrderEventStreams.StreamKey(OrderEventStreams.ShardOf(OrderId))));
            foreach (var envelope in envelopes)
            {
                await stream.OnNextAsync(envelope with { TraceParent = traceParent });
                if (envelope.Version == publishedThrough + 1)
                {
                    publishedThrough = envelope.Version;
                }

                OrderFlowTelemetry.EventsPublished.Add(1, new KeyValuePair<string, object?>(OrderFlowTelemetry.EventTypeTag, envelope.Type));
            }

            publicationOwed = publishedThrough < envelopes[^1].Version;
        }
        catch (Exception exception)
        {
            publicationOwed = true;
            publishing?.SetStatus(ActivityStatusCode.Error, exception.Message);
            logger.LogWarning(exception, "Order {OrderId}: events up to version {Version} are stored but not yet published; the reconciliation will deliver them.",
                OrderId, envelopes[^1].Version);
        }
    }

    /// <summary>
    /// Publishes versions after <paramref name="marker"/>, which the last writer may not have
    /// published (it died between confirming and publishing). Runs in the background of a load.
    /// </summary>
    private async Task RepublishAsync(int marker, int version)
    {
        try
        {
            await PublishAsync(await OrderEventEnvelopes.ReadAfterAsync(store, OrderId, marker, version - marker));
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Order {OrderId}: republishing versions {From}–{To} failed; it will be tried on the next load.", OrderId, marker + 1, version);
        }
    }

    /// <summary>Loads the log (failing fast if storage is down) and makes it JournaledGrain's confirmed view.</summary>
    private async Task ReloadAsync()
    {
        var slice = await store.LoadLatestAsync(OrderId);
        Loaded(slice);
        var (revealed, erased) = await RevealAsync(slice);
        loadedForAdaptor = new(slice.Version, OrderState.Fold(revealed));
        personalDataErased = erased;
        try
        {
            await RefreshNow();
        }
        finally
        {
            loadedForAdaptor = null;
        }

        viewIsVerified = true;
        if (!publicationOwed)
        {
            publishedThrough = Math.Max(publishedThrough, slice.PublishedThrough ?? 0);
        }

        if (publishedThrough < slice.Version)
        {
            _ = RepublishAsync(publishedThrough, slice.Version);
        }
    }

    /// <summary>
    /// Takes note of a load: its head, and whether storage is behind what this activation had
    /// confirmed. Events are never deleted, so a log shorter than the confirmed version means
    /// storage lost writes: the log is the truth from here on, and every projection that counted
    /// the lost events is re-derived from it.
    /// </summary>
    private void Loaded(StreamSlice slice)
    {
        head = ExpectedHead.Of(slice.Head);
        var confirmed = Version;
        if (slice.Version >= confirmed)
        {
            return;
        }

        logger.LogError(
            "Order {OrderId}: storage holds version {StoredVersion}, but this activation had confirmed version {ConfirmedVersion}. Storage lost writes (a restore, or a failover to an earlier recovery point); the order goes by what storage holds, and statistics are re-derived from the log.",
            OrderId, slice.Version, confirmed);
        publishedThrough = Math.Min(publishedThrough, slice.Version);
        announcedIn = null; // the change index may have lost the announcement too
        _ = RequestRepairAsync($"Order '{OrderId}' was found at version {slice.Version} in storage after version {confirmed} had been confirmed: storage lost writes.");
    }

    /// <summary>
    /// Asks in the background, retrying with back-off: a loss shallower than the rollback watch's
    /// interval is noticed by no one else, so a request that fails once must not be the end of it.
    /// </summary>
    private async Task RequestRepairAsync(string reason)
    {
        var wait = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await GrainFactory.GetGrain<IProjectionControl>(0).RequestRepair(reason);
                return;
            }
            catch (Exception exception) when (attempt < RepairRequestAttempts)
            {
                logger.LogWarning(exception, "Order {OrderId}: asking for the statistics to be re-derived from the log failed; retrying in {Wait}.", OrderId, wait);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Order {OrderId}: asking for the statistics to be re-derived from the log failed {Attempts} times; start a rebuild (POST /api/admin/projections/rebuild). Reason: {Reason}",
                    OrderId, attempt, reason);
                return;
            }

            await Task.Delay(wait, time);
            wait *= 2;
        }
    }

    /// <summary>The data subject of an event's personal data: the order's customer.</summary>
    private string SubjectOf(OrderEvent @event) => @event is OrderPlaced placed ? placed.CustomerId : State.CustomerId;

    /// <summary>A slice of this order's log with its personal data decrypted (null where erased), and whether any was erased.</summary>
    private Task<(StreamSlice Slice, bool Erased)> RevealAsync(StreamSlice slice) =>
        personalData.RevealAsync(slice, OrderEventSerializer.ClrTypeOf, typeof(OrderState), OrderEventSerializer.Json);

    /// <summary>
    /// The view of <paramref name="state"/>, its address withheld if the customer was erased since
    /// it was decrypted (a view held in memory across the erasure): one call to the key's grain,
    /// only for an order that shows an address.
    /// </summary>
    private async Task<OrderView> ViewAsync(OrderState state, int version, bool erased)
    {
        var view = state.ToView(version);
        if (view.ShippingAddress is not null && await personalData.IsErasedAsync(state.CustomerId))
        {
            return view with { ShippingAddress = null, PersonalDataErased = true };
        }

        return erased ? view with { PersonalDataErased = true } : view;
    }

    /// <summary>Whether the head row has changed since this activation last read or wrote it (one point read).</summary>
    private async Task<bool> HeadMovedAsync()
    {
        if (!ViewIsVerified)
        {
            return false; // nothing confirmed to compare with: a placement on a new activation
        }

        var now = await store.ReadHeadAsync(OrderId);
        return head.IsKnown ? now?.ETag != head.ETag : now?.Version != Version;
    }

    private async Task<CommandResult> ReplayAsync(IdempotencyRecord record, string requestHash)
    {
        if (record.RequestHash != requestHash)
        {
            return CommandResult.Refused(
                CommandErrorCode.Unprocessable,
                $"Idempotency-Key '{record.Key}' was already used for a different request on order '{OrderId}'.");
        }

        var view = await GetAtVersion(record.ResultVersion)
            ?? throw new InvalidDataException($"Order '{OrderId}' has an idempotency record for version {record.ResultVersion}, which does not exist.");
        return CommandResult.Success(view, replayed: true);
    }

    /// <summary>Identifies a request's content, so that a reused idempotency key with another body is recognised.</summary>
    private static string RequestHash(OrderCommand command)
    {
        var json = JsonSerializer.Serialize(command, command.GetType(), OrderEventSerializer.Json);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(command.GetType().Name + "\n" + json)));
    }
}
