using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.EventSourcing;
using Orleans.EventSourcing.CustomStorage;
using Orleans.Runtime;
using Orleans.Streams;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.PersonalData;
using OrderFlow.Storage;
using OrderFlow.Streams;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// The storage plumbing of an event-sourced aggregate: its events live in the aggregate's own
/// partition of its category's event log (<see cref="TableEventStore"/>, through <see cref="EventLogs"/>);
/// its state is their fold. An aggregate's grain derives from this, names
/// <see cref="EventSourcingServices.LogConsistencyProviderName"/>, and supplies its decider
/// (<see cref="DecideAsync"/>), which commands may start its stream (<see cref="StartsStream"/>) and
/// its <see cref="EventSource{TState,TEvent,TEnvelope}"/>; it answers through
/// <see cref="ExecuteCommandAsync"/>, <see cref="CurrentStateAsync"/>, <see cref="StateAtVersionAsync"/>,
/// <see cref="StateAsOfAsync"/> and <see cref="EventPageAsync"/>.
/// </summary>
/// <remarks>
/// <para>
/// The grain does its storage I/O itself and hands the results to JournaledGrain through
/// <see cref="ICustomStorageInterface{TState,TEvent}"/>. The reason: JournaledGrain retries a failed
/// read or write in the background until storage answers, so a command would hang for Orleans'
/// 30 s call timeout and then possibly be written after the caller was told it failed. Doing the
/// I/O first lets a command fail fast (<see cref="StorageUnavailableException"/>) having
/// written nothing, and lets a version conflict re-validate the command against fresh state.
/// </para>
/// <para>
/// Activation reads nothing: the view starts as "assumed new" at version 0. A command that starts
/// the stream (a placement, a registration) appends against that assumption (its insert fails if
/// the stream exists), so a new aggregate reads nothing (it writes its change-index announcement
/// and its append); every other command and query of a fresh activation loads the log first.
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
/// <para>
/// What an activation confirms it also leaves with the silo's <see cref="ConfirmedEnvelopes"/>
/// (marked while its append is in flight, forgotten when it reloads or an append fails), so that
/// the reconciliation of its change rows need not read the log back.
/// </para>
/// </remarks>
public abstract class EventSourcedGrain<TState, TEvent, TCommand, TEnvelope> : JournaledGrain<TState, TEvent>, ICustomStorageInterface<TState, TEvent>
    where TState : class, IEventSourcedState<TState, TEvent>, new()
    where TEvent : class
    where TCommand : class
{
    /// <summary>How often a command is re-validated after losing a race to another writer before giving up.</summary>
    private const int MaxConflictRetries = 5;

    /// <summary>Tries of a projection repair request, a second apart and doubling (about a minute in all).</summary>
    private const int RepairRequestAttempts = 7;

    private readonly EventSource<TState, TEvent, TEnvelope> source;
    private readonly ChangeAnnouncer changes;
    private readonly ILogger logger;
    private readonly int snapshotInterval;
    private readonly StorageRollbacks rollbacks;
    private readonly ConfirmedEnvelopes confirmed;
    private readonly EventStreamHandles streamHandles;

    private bool activationReadDone;
    private bool viewIsVerified;

    /// <summary>The storage rollbacks this silo had noticed when the view was last verified (see <see cref="ViewIsVerified"/>).</summary>
    private long rollbacksSeen;

    /// <summary>The change-index bucket this activation has announced its appends in (see <see cref="WriteAsync"/>).</summary>
    private string? announcedIn;

    /// <summary>The version the change-index row of <see cref="announcedIn"/> announces: the first this activation appended in that bucket.</summary>
    private int announcedFrom;

    /// <summary>The stream's head row as this activation last read or wrote it; a new activation assumes a new stream, which has none.</summary>
    private ExpectedHead head = ExpectedHead.None;

    /// <summary>Every version up to this one has been published to the aggregate's event stream.</summary>
    private int publishedThrough;

    /// <summary>
    /// The last version of a publication of this activation that failed, or of an append of unknown
    /// outcome found landed (0: none): until
    /// <see cref="publishedThrough"/> reaches it, it is owed, and since the marker stored with its
    /// append was written before it was tried, a reload must not take that marker's word for it.
    /// A version, not a flag: a republication of older versions that succeeds meanwhile pays nothing of it.
    /// </summary>
    private int owedThrough;

    private bool PublicationOwed => publishedThrough < owedThrough;

    /// <summary>
    /// The versions of this activation's last append whose outcome it does not know, until a load
    /// shows them (then owed: <see cref="owedThrough"/>) or an append of its own succeeds after
    /// it (conditional on the head that append changed, the unknown one can no longer land). A load
    /// that does not show them yet keeps them: an append on the wire may land after that load.
    /// </summary>
    private (int From, int Through)? appendOfUnknownOutcome;

    /// <summary>The log as last loaded held erased personal data (see <see cref="LastStateHadErasedPersonalData"/>).</summary>
    private bool personalDataErased;

    /// <summary>The command being decided needs no personal data (<see cref="DecidesWithoutPersonalData"/>): a key that cannot be had does not stop its load.</summary>
    private bool decidingWithoutPersonalData;

    /// <summary>The view was loaded with its personal members stripped (their key could not be had): good for that command only.</summary>
    private bool viewLacksPersonalData;
    private KeyValuePair<int, TState>? loadedForAdaptor;
    private (int ExpectedVersion, IReadOnlyList<TEvent> Events)? appendedForAdaptor;

    protected EventSourcedGrain(EventSource<TState, TEvent, TEnvelope> source, EventSourcingServices services, ILogger logger)
    {
        this.source = source;
        Store = services.Logs.For(source.Category);
        changes = services.Changes;
        rollbacks = services.Rollbacks;
        rollbacksSeen = rollbacks.Count;
        confirmed = services.Confirmed;
        streamHandles = services.StreamHandles;
        Time = services.Time;
        PersonalData = services.PersonalData;
        this.logger = logger;
        snapshotInterval = Math.Max(1, services.Options.SnapshotInterval);
    }

    /// <summary>The log of this aggregate's category.</summary>
    protected TableEventStore Store { get; }

    protected TimeProvider Time { get; }

    protected PersonalDataProtector PersonalData { get; }

    /// <summary>
    /// The state the last query or command of this call answered with was read from a log holding
    /// personal data that was erased (read as null). Grain calls do not interleave: read it right
    /// after the call that produced the state.
    /// </summary>
    protected bool LastStateHadErasedPersonalData { get; private set; }

    /// <summary>The aggregate's id: the grain key, and its stream's id within its category.</summary>
    protected string AggregateId => aggregateId ??= this.GetPrimaryKeyString(); // made from the grain id's bytes on every call otherwise

    private string? aggregateId;

    /// <summary>The aggregate's stream, the silo's handle of it (<see cref="EventStreamHandles"/>), taken on first publication.</summary>
    private async ValueTask<IAsyncStream<TEnvelope>> EventStreamAsync() => eventStream ??= await streamHandles.GetAsync<TEnvelope>(
        OrderEventStreams.ProviderName, StreamId.Create(source.StreamNamespace, source.StreamKeyOf(AggregateId)));

    private IAsyncStream<TEnvelope>? eventStream;

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

    /// <summary>A command that may start the stream: a fresh activation decides it on the "assumed new" view without reading the log.</summary>
    protected abstract bool StartsStream(TCommand command);

    /// <summary>
    /// Decides <paramref name="command"/> on the current view (<see cref="JournaledGrain{TState,TEvent}.State"/>);
    /// <paramref name="afterConflict"/>: an append of this command just lost a race (or hit a unique key, see <see cref="UniqueKeysOf"/>).
    /// </summary>
    protected abstract Task<Decision<TEvent>> DecideAsync(TCommand command, bool afterConflict);

    /// <summary>
    /// Whether deciding <paramref name="command"/> does something that outlasts the decision (an
    /// erasure deletes its subject's key): with an idempotency key, its record is read before deciding,
    /// so that a retry, or a request reusing the key, is answered without deciding again (a grain may
    /// repeat the act itself after the answer: an erasure deletes again), and a command that acted
    /// and then failed leaves the view to be read again.
    /// </summary>
    protected virtual bool DecidingActs(TCommand command) => false;

    /// <summary>
    /// The command as its idempotency record identifies it (<see cref="RequestHash"/>): without
    /// members that do not change what is asked (who asked); the command itself by default.
    /// </summary>
    protected virtual TCommand RequestIdentityOf(TCommand command) => command;

    /// <summary>Keys the events record once (<see cref="UniqueKeyRecord"/>), written in their append; none by default.</summary>
    protected virtual IReadOnlyList<UniqueKeyRecord> UniqueKeysOf(ImmutableArray<TEvent> events) => [];

    /// <summary>
    /// Decides the command on the current view and, when allowed, appends, confirms and publishes
    /// its events; a key in <paramref name="metadata"/> already applied is answered from its record.
    /// A refused command writes nothing.
    /// </summary>
    /// <exception cref="StorageUnavailableException">The event log could not be reached or did not answer in time.</exception>
    protected async Task<CommandOutcome<TState>> ExecuteCommandAsync(TCommand command, CommandMetadata metadata)
    {
        var outcome = "failed";
        var succeeded = false;
        decidingWithoutPersonalData = DecidesWithoutPersonalData(command);
        try
        {
            LastStateHadErasedPersonalData = false;
            var result = await ExecuteAsync(command, metadata);
            if (!result.Replayed || result.Version == Version)
            {
                LastStateHadErasedPersonalData = personalDataErased;
            }

            outcome = result.Error is { } error ? error.Code.ToString().ToLowerInvariant()
                : result.Replayed ? "replayed"
                : "applied";
            succeeded = result.Error is null;
            return result;
        }
        catch (StorageUnavailableException)
        {
            outcome = "unavailable";
            throw;
        }
        finally
        {
            if (!succeeded && DecidingActs(command))
            {
                // What it did before it failed (an erasure's key deleted, its record not written) may
                // change what the log reveals: the view in memory no longer shows what storage holds.
                viewIsVerified = false;
            }

            decidingWithoutPersonalData = false;
            if (viewLacksPersonalData)
            {
                // Shown to no one: the next call loads the log again, and reveals what it can.
                viewLacksPersonalData = false;
                viewIsVerified = false;
            }

            OrderFlowTelemetry.Commands.Add(1,
                new KeyValuePair<string, object?>(OrderFlowTelemetry.CommandTypeTag, command.GetType().Name),
                new KeyValuePair<string, object?>(OrderFlowTelemetry.CommandOutcomeTag, outcome));
        }
    }

    /// <summary>The aggregate now, or null when it does not exist.</summary>
    protected async Task<TState?> CurrentStateAsync()
    {
        if (!ViewIsVerified)
        {
            await ReloadAsync();
        }

        LastStateHadErasedPersonalData = personalDataErased;
        return State.Exists ? State : null;
    }

    /// <summary>The aggregate right after event <paramref name="version"/>, or null when it had no such version.</summary>
    protected async Task<TState?> StateAtVersionAsync(int version)
    {
        if (version < 1)
        {
            return null;
        }

        if (ViewIsVerified && version >= Version)
        {
            LastStateHadErasedPersonalData = personalDataErased;
            return version == Version && State.Exists ? State : null;
        }

        var slice = await RevealAsync(await Store.LoadAtVersionAsync(AggregateId, version, readable: source.CanRead));
        var state = source.Fold(slice);
        return slice.Version == version && state.Exists ? state : null;
    }

    /// <summary>The aggregate at event time <paramref name="asOf"/> (inclusive) and its version then, or null when it did not exist yet.</summary>
    protected async Task<(TState State, int Version)?> StateAsOfAsync(DateTimeOffset asOf)
    {
        var slice = await RevealAsync(await Store.LoadAsOfAsync(AggregateId, asOf, readable: source.CanRead));
        var state = source.Fold(slice);
        return state.Exists ? (state, slice.Version) : null;
    }

    /// <summary>Up to <paramref name="limit"/> events starting at <paramref name="fromVersion"/>, or null when the aggregate does not exist.</summary>
    protected async Task<EventPage?> EventPageAsync(int fromVersion, int limit)
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

        var events = await Store.ReadEventsAsync(AggregateId, fromVersion, limit + 1);
        var keys = new Dictionary<(string, string), byte[]?>();
        var subject = source.SubjectOf(AggregateId, State); // an aggregate's subject never changes (an order's customer)
        var page = new List<RecordedEvent>(Math.Min(limit, events.Count));
        foreach (var e in events.Take(limit))
        {
            // Personal members decrypted; those of an erased subject null and flagged, never the ciphertext,
            // nor the plain text that builds before encryption stored.
            var data = EventSerializer<TEvent>.ClrTypeOf(e.Type) is { } type
                ? await PersonalData.RevealAsync(e.Data, type, StoredJson.Options, keys, subject)
                : new RevealedJson(e.Data, Erased: false);
            page.Add(new RecordedEvent(
                e.Version, e.EventId, e.Type, e.SchemaVersion, e.OccurredAt, e.RecordedAt, e.CorrelationId, e.CausationId, data.Json, data.Erased));
        }

        return new EventPage([.. page], events.Count > limit ? events[limit].Version : null);
    }

    protected override void TransitionState(TState state, TEvent @event) => state.Apply(@event);

    private async Task<CommandOutcome<TState>> ExecuteAsync(TCommand command, CommandMetadata metadata)
    {
        for (var attempt = 1; attempt <= MaxConflictRetries; attempt++)
        {
            // A command starting the stream on a new activation reads nothing; one that the unverified view would refuse reads the log.
            if (!ViewIsVerified && (!StartsStream(command) || State.Exists))
            {
                await ReloadAsync();
            }

            // A retry is answered from its key's record. An append needs no look first: its insert of
            // the record fails if one exists, a conflict after which the next attempt looks. A
            // refusal looks even on the assumed-new view of a fresh activation: a retried placement
            // may be judged otherwise here (its event time past a clock behind the first silo's).
            // A command whose deciding acts looks before deciding.
            var decision = metadata.IdempotencyKey is not null && DecidingActs(command) ? null : await DecideAsync(command, afterConflict: attempt > 1);
            if (metadata.IdempotencyKey is { } key && (attempt > 1 || decision is null || decision.Error is not null || decision.AlreadyApplied)
                && await Store.FindIdempotencyRecordAsync(AggregateId, key) is { } record)
            {
                // Another writer stored it (the first attempt reached another activation, or landed
                // unseen), or storage no longer holds what this view confirmed: the answer comes from the log.
                if (record.ResultVersion > Version || await HeadMovedAsync())
                {
                    await ReloadAsync();
                }

                if (record.ResultVersion <= Version
                    && (record.EventId is not { } eventId || await Store.HoldsEventAsync(AggregateId, record.ResultVersion, eventId)))
                {
                    return await ReplayAsync(record, command);
                }

                // Storage kept the record without the events it names (a partial restore, rows copied
                // one by one), whether or not later commands have appended up to its version since: the
                // command was not applied as far as the log knows, so it is decided again. The record
                // goes first, or it would answer for whatever holds its version.
                logger.LogError(
                    "{Category} {Id}: the idempotency record of key '{Key}' names version {RecordVersion}, which the log (at version {Version}) does not hold as recorded; storage lost the events it recorded. The record is removed and the command decided again.",
                    source.DisplayName, AggregateId, key, record.ResultVersion, Version);
                if (!await Store.RemoveStaleIdempotencyRecordAsync(AggregateId, record))
                {
                    await ReloadAsync(); // written since it was read
                }

                continue;
            }

            decision ??= await DecideAsync(command, afterConflict: attempt > 1);
            if ((decision.AlreadyApplied || decision.Error is not null && !decision.FromFieldsAlone) && await HeadMovedAsync())
            {
                // The answer would come from a view storage no longer holds: decide again on a fresh one.
                await ReloadAsync();
                continue;
            }

            if (decision.Error is { } error)
            {
                return new CommandOutcome<TState>(null, Version, error, Replayed: false);
            }

            if (decision.AlreadyApplied)
            {
                return new CommandOutcome<TState>(State, Version, null, Replayed: true);
            }

            var held = false;
            try
            {
                var expectedVersion = Version;
                confirmed.Appending(source.Category, AggregateId);
                var eventIds = await WriteAsync(expectedVersion, decision.Events, metadata, command, publishes: true);
                appendOfUnknownOutcome = null;
                var recordedAt = Time.GetUtcNow();
                var envelopes = source.Build(AggregateId, State, decision.Events, expectedVersion + 1, eventIds)
                    .ConvertAll(envelope => source.WithRecordedAt(envelope, recordedAt));

                // Durable now: hand the batch to JournaledGrain, which folds it into State.
                appendedForAdaptor = (expectedVersion, decision.Events);
                try
                {
                    if (!await RaiseConditionalEvents(decision.Events))
                    {
                        throw new InvalidOperationException($"{source.DisplayName} '{AggregateId}' appended version {expectedVersion + 1} but JournaledGrain refused to confirm it.");
                    }
                }
                finally
                {
                    appendedForAdaptor = null;
                }

                viewIsVerified = true;

                // Held as published (without the publication's trace), for the reconciliation to take instead of reading them back.
                confirmed.Confirmed(source.Category, AggregateId, expectedVersion + 1, envelopes, announcedFrom);
                held = true;
                await PublishAsync(envelopes);
                return new CommandOutcome<TState>(State, Version, null, Replayed: false);
            }
            catch (ConcurrencyConflictException conflict)
            {
                logger.LogInformation("{Category} {Id}: {Message} Reloading and re-validating (attempt {Attempt}).", source.DisplayName, AggregateId, conflict.Message, attempt);
                await ReloadAsync();
            }
            catch (EventTooLargeException tooLarge)
            {
                return Refused(CommandErrorCode.TooLarge, tooLarge.Message);
            }
            catch (PersonalDataErasedException) when (!ViewIsVerified)
            {
                // Decided on the assumed-new view of a fresh activation: the stream may exist, and
                // this be the retry of its first command, answered from its idempotency record.
                await ReloadAsync();
            }
            catch (PersonalDataErasedException erased)
            {
                return Refused(CommandErrorCode.Unprocessable, erased.Message);
            }
            catch (StorageUnavailableException unavailable)
            {
                // If storage stopped answering mid-append, the append may still land: stop trusting
                // the cached view, so the next call reads what the log really holds.
                viewIsVerified = false;
                if (unavailable.WriteOutcomeUnknown)
                {
                    // Landed, its marker would claim its events published, which they were not: the
                    // load that finds them publishes them rather than leave them to the reconciliation.
                    appendOfUnknownOutcome = (Version + 1, Version + decision.Events.Length);
                }

                throw;
            }
            finally
            {
                if (!held)
                {
                    // Not confirmed (or it may land unseen): the reconciliation reads this stream from the log.
                    confirmed.Forget(source.Category, AggregateId);
                }
            }
        }

        return Refused(
            CommandErrorCode.Concurrency,
            $"{source.DisplayName} '{AggregateId}' kept changing under this command ({MaxConflictRetries} attempts); nothing was written. Retry the request.");
    }

    private CommandOutcome<TState> Refused(CommandErrorCode code, string detail) => new(null, Version, new CommandError(code, detail), Replayed: false);

    async Task<KeyValuePair<int, TState>> ICustomStorageInterface<TState, TEvent>.ReadStateFromStorage()
    {
        if (loadedForAdaptor is { } loaded)
        {
            loadedForAdaptor = null;
            return loaded;
        }

        if (!activationReadDone)
        {
            // Activation: assume a new stream; see the remarks on the class.
            activationReadDone = true;
            return new(0, new TState());
        }

        // Unverified until the reload completes: a reload that fails half-way (the key's grain does
        // not answer after the head was recorded) must not leave the old view standing as verified.
        viewIsVerified = false;
        confirmed.Forget(source.Category, AggregateId);
        var slice = await Store.LoadLatestAsync(AggregateId, readable: source.CanRead);
        Loaded(slice);
        var revealed = await RevealForCommandAsync(slice);
        personalDataErased = LastStateHadErasedPersonalData;
        viewIsVerified = true;
        return new(slice.Version, source.Fold(revealed));
    }

    async Task<bool> ICustomStorageInterface<TState, TEvent>.ApplyUpdatesToStorage(IReadOnlyList<TEvent> updates, int expectedVersion)
    {
        if (appendedForAdaptor is { } appended && appended.ExpectedVersion == expectedVersion
            && appended.Events.SequenceEqual(updates, ReferenceEqualityComparer.Instance))
        {
            return true; // ExecuteAsync already appended exactly these events at this version.
        }

        // Events raised any other way are appended here, with the same conflict semantics; the reconciliation reads them from the log.
        confirmed.Appending(source.Category, AggregateId);
        try
        {
            await WriteAsync(expectedVersion, [.. updates], CommandMetadata.None, command: null, publishes: false);
            return true;
        }
        catch (ConcurrencyConflictException)
        {
            return false;
        }
        finally
        {
            confirmed.Forget(source.Category, AggregateId);
        }
    }

    /// <summary>
    /// Appends one command's events, with their unique keys (<see cref="UniqueKeysOf"/>), a snapshot
    /// when they cross a multiple of the snapshot interval, and the publication marker, in one
    /// transaction. Returns the events' ids.
    /// </summary>
    /// <param name="publishes">The caller publishes the events once appended (see the marker below).</param>
    /// <remarks>
    /// The first append of this activation in a change-index bucket is announced in the
    /// <see cref="ChangeIndex"/> first (in a group with other streams', <see cref="ChangeAnnouncer"/>),
    /// under the aggregate's category, so that the projections' reconciliation finds it even if this
    /// silo dies before publishing and the stream is never loaded again. A later append in the same
    /// bucket is covered by that row, which the reconciliation reads only after the bucket has ended and settled.
    /// </remarks>
    private async Task<List<Guid>> WriteAsync(int expectedVersion, ImmutableArray<TEvent> events, CommandMetadata metadata, TCommand? command, bool publishes)
    {
        var rows = new List<EventToAppend>(events.Length);
        string? causation = metadata.CausationId;
        var before = State;
        foreach (var @event in events)
        {
            // Sealed before anything is written: a key table that does not answer fails the command with nothing stored.
            var data = await PersonalData.ProtectAsync(
                EventSerializer<TEvent>.Serialize(@event), @event.GetType(), StoredJson.Options, source.SubjectOf(AggregateId, before, @event), WhenErased.Refuse);
            var eventId = Guid.CreateVersion7(Time.GetUtcNow());
            rows.Add(new EventToAppend(
                eventId,
                EventSerializer<TEvent>.TypeName(@event),
                EventSerializer<TEvent>.SchemaVersionOf(@event),
                source.OccurredAtOf(@event),
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

            try
            {
                // Personal data revealed before its subject's erasure and still in memory is written as erased.
                var data = await PersonalData.ProtectAsync(
                    source.SerializeState(next), typeof(TState), StoredJson.Options, source.SubjectOf(AggregateId, next), WhenErased.WriteErasedMarker);
                snapshot = new Snapshot(newVersion, source.SnapshotType, source.SnapshotSchemaVersion, next.UpdatedAt, data);
            }
            catch (StorageUnavailableException exception)
            {
                // A snapshot only shortens loads: a command whose events carry no personal data needs no key, so the key table's outage skips it.
                logger.LogWarning(exception, "{Category} {Id}: the snapshot at version {Version} is skipped; the key of its personal data could not be read.", source.DisplayName, AggregateId, newVersion);
            }
        }

        // How far the stream will have been published once this command is done: through its own
        // events when every earlier version was, so that a load finds nothing to publish again. If
        // the publication is then lost (the silo dies, the stream fails), the reconciliation delivers
        // it: the change index announces this append. An activation that knows of versions it did
        // not publish writes only as far as it got, and publishes them with its next command.
        var marker = publishes && publishedThrough >= expectedVersion ? newVersion : publishedThrough;

        // Keyed by the subject's key (fetched above for the events) when the command carries personal data.
        var idempotency = metadata.IdempotencyKey is { } key && command is not null
            ? new IdempotencyRecord(key, await RequestHash.OfAsync(RequestIdentityOf(command), events.IsEmpty ? source.SubjectOf(AggregateId, before) : source.SubjectOf(AggregateId, before, events[0]), PersonalData), newVersion)
            : null;
        if (changes.BucketOf(Time.GetUtcNow()) != announcedIn)
        {
            announcedIn = await changes.AnnounceAsync(AggregateId, expectedVersion + 1, source.Category);
            announcedFrom = expectedVersion + 1;
        }

        var written = await Store.AppendAsync(AggregateId, expectedVersion, rows, snapshot, idempotency, marker, head, UniqueKeysOf(events));
        head = written is null ? ExpectedHead.Unknown : ExpectedHead.Of(written);
        return [.. rows.Select(row => row.EventId)];
    }

    /// <summary>
    /// Publishes confirmed events to the aggregate's stream, in version order and without a gap:
    /// versions an earlier publication of this activation failed to deliver are read back and go
    /// first. A failure is logged, not thrown: the events are durable, the reconciliation delivers
    /// them (their append was announced in the change index), and this activation publishes them
    /// with its next command or reload, writing markers short of them meanwhile (consumers count
    /// each event once).
    /// </summary>
    private async Task PublishAsync(IReadOnlyList<TEnvelope> envelopes)
    {
        if (envelopes.Count == 0)
        {
            return;
        }

        // The publication's context travels in each envelope: the projections' span joins this trace.
        using var publishing = OrderFlowTelemetry.ActivitySource.StartActivity(OrderFlowTelemetry.PublishActivity, ActivityKind.Producer);
        publishing?.SetTag("orderflow." + source.Category + ".id", AggregateId);
        var traceParent = OrderFlowTelemetry.TraceParentOf(publishing ?? Activity.Current);
        try
        {
            var owed = source.VersionOf(envelopes[0]) - 1 - publishedThrough;
            if (owed > 0)
            {
                envelopes = [.. await source.ReadAfterAsync(Store, AggregateId, publishedThrough, owed), .. envelopes];
            }

            var stream = await EventStreamAsync();
            var sending = Stopwatch.GetTimestamp();
            foreach (var envelope in envelopes)
            {
                await Sent(stream.OnNextAsync(source.WithTraceParent(envelope, traceParent)), PublicationDeadline - Stopwatch.GetElapsedTime(sending));
                if (source.VersionOf(envelope) == publishedThrough + 1)
                {
                    publishedThrough = source.VersionOf(envelope);
                }

                OrderFlowTelemetry.EventsPublished.Add(1, new KeyValuePair<string, object?>(OrderFlowTelemetry.EventTypeTag, source.TypeOf(envelope)));
            }

            if (publishedThrough < source.VersionOf(envelopes[^1]))
            {
                owedThrough = Math.Max(owedThrough, source.VersionOf(envelopes[^1])); // a gap: what follows it was not taken as published
            }
        }
        catch (Exception exception)
        {
            owedThrough = Math.Max(owedThrough, source.VersionOf(envelopes[^1]));
            publishing?.SetStatus(ActivityStatusCode.Error, exception.Message);
            logger.LogWarning(exception, "{Category} {Id}: events up to version {Version} are stored but not yet published; the reconciliation will deliver them.",
                source.DisplayName, AggregateId, source.VersionOf(envelopes[^1]));
        }
    }

    /// <summary>
    /// The most a publication's sends (all of its events, owed ones included) may hold a command's
    /// answer: its events are stored, and those that miss it are owed (the next command, the next
    /// load or the reconciliation delivers them). A queue service that does not answer would
    /// otherwise hold the answer for as long as its client retries, past the API's deadline for
    /// the whole command.
    /// </summary>
    private static readonly TimeSpan PublicationDeadline = TimeSpan.FromSeconds(2);

    /// <summary>Waits for a send for what is <paramref name="left"/> of the publication's deadline; one that lands later is a repeat projections count once.</summary>
    private static async Task Sent(Task send, TimeSpan left)
    {
        try
        {
            await send.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
        catch (TimeoutException)
        {
            _ = send.ContinueWith(static late => late.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
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
            await PublishAsync(await source.ReadAfterAsync(Store, AggregateId, marker, version - marker));
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "{Category} {Id}: republishing versions {From}–{To} failed; it will be tried on the next load.", source.DisplayName, AggregateId, marker + 1, version);
        }
    }

    /// <summary>Loads the log (failing fast if storage is down) and makes it JournaledGrain's confirmed view.</summary>
    private async Task ReloadAsync()
    {
        // Nothing is trusted until the reload completes: one that fails half-way (the log read, its
        // personal data not revealed) would otherwise leave the old view trusted beside the new head.
        viewIsVerified = false;

        // What this activation confirmed is no longer all there is to know of the stream (another writer, lost writes).
        confirmed.Forget(source.Category, AggregateId);
        var slice = await Store.LoadLatestAsync(AggregateId, readable: source.CanRead);
        Loaded(slice);
        loadedForAdaptor = new(slice.Version, source.Fold(await RevealForCommandAsync(slice)));
        personalDataErased = LastStateHadErasedPersonalData;
        try
        {
            await RefreshNow();
        }
        finally
        {
            loadedForAdaptor = null;
        }

        viewIsVerified = true;
        if (!PublicationOwed)
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
        if (appendOfUnknownOutcome is { } unknown && slice.Version >= unknown.From)
        {
            owedThrough = Math.Max(owedThrough, Math.Min(unknown.Through, slice.Version));
            appendOfUnknownOutcome = null;
        }

        // The next append announces itself again, from its own first version: a reload means another
        // writer may have appended since this activation's announcement, and a change row that
        // announced only the versions before those would let the reconciliation take this silo's
        // confirmed envelopes (ConfirmedEnvelopes) as all there is and skip the other writer's.
        announcedIn = null;
        var confirmed = Version;
        if (slice.Version >= confirmed)
        {
            return;
        }

        logger.LogError(
            "{Category} {Id}: storage holds version {StoredVersion}, but this activation had confirmed version {ConfirmedVersion}. Storage lost writes (a restore, or a failover to an earlier recovery point); the {Noun} goes by what storage holds, and statistics are re-derived from the log.",
            source.DisplayName, AggregateId, slice.Version, confirmed, source.Category);
        publishedThrough = Math.Min(publishedThrough, slice.Version);
        owedThrough = Math.Min(owedThrough, slice.Version); // the versions beyond are gone: nothing of them is owed
        _ = RequestRepairAsync($"{source.DisplayName} '{AggregateId}' was found at version {slice.Version} in storage after version {confirmed} had been confirmed: storage lost writes.");
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
                logger.LogWarning(exception, "{Category} {Id}: asking for the statistics to be re-derived from the log failed; retrying in {Wait}.", source.DisplayName, AggregateId, wait);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "{Category} {Id}: asking for the statistics to be re-derived from the log failed {Attempts} times; start a rebuild (POST /api/admin/projections/rebuild). Reason: {Reason}",
                    source.DisplayName, AggregateId, attempt, reason);
                return;
            }

            await Task.Delay(wait, Time);
            wait *= 2;
        }
    }

    /// <summary>Whether the view was read from or written to storage and the head has not moved since (one point read): the log holds what the view shows.</summary>
    protected async Task<bool> ViewStillCurrentAsync() => ViewIsVerified && !await HeadMovedAsync();

    /// <summary>Whether the head row has changed since this activation last read or wrote it (one point read).</summary>
    private async Task<bool> HeadMovedAsync()
    {
        if (!ViewIsVerified)
        {
            return false; // nothing confirmed to compare with: a command starting the stream on a new activation
        }

        var now = await Store.ReadHeadAsync(AggregateId);
        return head.IsKnown ? now?.ETag != head.ETag : now?.Version != Version;
    }

    /// <summary>
    /// Whether <paramref name="command"/> is decided without the aggregate's personal data (an
    /// erasure): its load goes on with the personal members stripped when their key is lost or cannot
    /// be unwrapped, rather than failing the command (a subject whose key is gone must still be erasable).
    /// </summary>
    protected virtual bool DecidesWithoutPersonalData(TCommand command) => false;

    /// <summary><see cref="RevealAsync(StreamSlice)"/>, or for a command decided without personal data, the slice as stored when its key cannot be had.</summary>
    private async Task<StreamSlice> RevealForCommandAsync(StreamSlice slice)
    {
        try
        {
            return await RevealAsync(slice);
        }
        catch (Exception exception) when (decidingWithoutPersonalData && PersonalDataProtector.CannotReveal(exception))
        {
            logger.LogWarning(exception, "{Category} {Id}: its personal data cannot be revealed; the command is decided without it.", source.DisplayName, AggregateId);
            LastStateHadErasedPersonalData = false;
            viewLacksPersonalData = true;
            return slice; // the fold strips the sealed members
        }
    }

    /// <summary>A slice of this stream with its personal data decrypted (null where erased); sets <see cref="LastStateHadErasedPersonalData"/>.</summary>
    private async Task<StreamSlice> RevealAsync(StreamSlice slice)
    {
        var (revealed, erased) = await PersonalData.RevealAsync(slice, EventSerializer<TEvent>.ClrTypeOf, typeof(TState), StoredJson.Options);
        LastStateHadErasedPersonalData = erased;
        return revealed;
    }

    private async Task<CommandOutcome<TState>> ReplayAsync(IdempotencyRecord record, TCommand command)
    {
        if (!await RequestHash.MatchesAsync(record.RequestHash, RequestIdentityOf(command), command, PersonalData))
        {
            return Refused(
                CommandErrorCode.Unprocessable,
                $"Idempotency-Key '{record.Key}' was already used for a different request on {source.Category} '{AggregateId}'.");
        }

        var state = await StateAtVersionAsync(record.ResultVersion)
            ?? throw new InvalidDataException($"{source.DisplayName} '{AggregateId}' has an idempotency record for version {record.ResultVersion}, which does not exist.");
        return new CommandOutcome<TState>(state, record.ResultVersion, null, Replayed: true);
    }
}
