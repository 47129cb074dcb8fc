using System.Text.Json;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// One kind of event source (an aggregate type): where its logs are stored, how its state is
/// folded and snapshotted, and how its events become the envelopes published on its own stream
/// namespace. One instance per aggregate type; its grain
/// (<see cref="EventSourcedGrain{TState,TEvent,TCommand,TEnvelope}"/>), the reconciliation and
/// rebuilds read its logs through it.
/// </summary>
public abstract class EventSource<TState, TEvent, TEnvelope>
    where TState : class, IEventSourcedState<TState, TEvent>, new()
    where TEvent : class
{
    /// <summary>
    /// The category of the aggregate's streams (lower-case letters): names its events table
    /// (<see cref="EventStoreOptions.TableNameOf"/>) and marks its change-index rows
    /// (<see cref="StreamChange.Category"/>), so that a stream id is unique only within its category.
    /// </summary>
    public abstract string Category { get; }

    /// <summary>The stream namespace the aggregate's envelopes are published on (provider <see cref="Streams.OrderEventStreams.ProviderName"/>).</summary>
    public abstract string StreamNamespace { get; }

    /// <summary>The key of the stream in <see cref="StreamNamespace"/> that carries the events of <paramref name="streamId"/> (always the same one: events stay in order).</summary>
    public abstract string StreamKeyOf(string streamId);

    /// <summary>The <see cref="Snapshot.Type"/> of the aggregate's snapshots.</summary>
    public abstract string SnapshotType { get; }

    /// <summary>The <see cref="Snapshot.SchemaVersion"/> this build writes.</summary>
    public virtual int SnapshotSchemaVersion => 1;

    /// <summary>
    /// Whether this build reads <paramref name="snapshot"/>: one of its own type and of its schema or
    /// an earlier one. A later build's (a deployment rolled back) may have moved or renamed members,
    /// which would read as defaults; events are refused in that case, but a snapshot is only a
    /// shortcut, so the events are folded instead.
    /// </summary>
    public bool CanRead(Snapshot snapshot) => snapshot.Type == SnapshotType && snapshot.SchemaVersion <= SnapshotSchemaVersion;

    /// <summary>The event time of <paramref name="event"/> (the log's OccurredAt column, which as-of reads go by).</summary>
    public abstract DateTimeOffset OccurredAtOf(TEvent @event);

    /// <summary>
    /// The data subject whose key seals the personal data of <paramref name="event"/>, which follows
    /// <paramref name="before"/> in stream <paramref name="streamId"/>: by default the stream's own id
    /// (a customer's events are the customer's).
    /// </summary>
    public virtual string SubjectOf(string streamId, TState before, TEvent @event) => streamId;

    /// <summary>The data subject of the personal data in a snapshot of <paramref name="state"/>.</summary>
    public virtual string SubjectOf(string streamId, TState state) => streamId;

    /// <summary>The category as a word for messages ("Order").</summary>
    public string DisplayName => char.ToUpperInvariant(Category[0]) + Category[1..];

    /// <summary>The state a slice of the log describes: its snapshot, then its events applied in order.</summary>
    public virtual TState Fold(StreamSlice slice)
    {
        var state = slice.Snapshot is { } snapshot ? DeserializeState(snapshot.Data, slice.Revealed) : new TState();
        foreach (var stored in slice.Events)
        {
            state.Apply(EventSerializer<TEvent>.Deserialize(stored, slice.Revealed));
        }

        return state;
    }

    public string SerializeState(TState state) => JsonSerializer.Serialize(state, StoredJson.Options);

    /// <summary>A snapshot back as its state, sealed personal members read as absent (<see cref="PersonalDataProtector.Strip"/>) unless <paramref name="revealed"/> (decrypted already).</summary>
    public TState DeserializeState(string data, bool revealed = false) =>
        JsonSerializer.Deserialize<TState>(revealed ? data : PersonalDataProtector.Strip(data, typeof(TState), StoredJson.Options), StoredJson.Options) ?? throw new InvalidDataException($"Empty {Category} snapshot.");

    /// <summary>
    /// Envelopes for <paramref name="events"/> of stream <paramref name="streamId"/>, which follow
    /// <paramref name="before"/> (the state at version <paramref name="firstVersion"/> − 1, not to be
    /// changed) and carry the ids in <paramref name="eventIds"/>. An envelope names its stream by the
    /// stream's id, not by its state's: a customer erased before registering has no id in their state.
    /// </summary>
    public abstract List<TEnvelope> Build(string streamId, TState before, IReadOnlyList<TEvent> events, int firstVersion, IReadOnlyList<Guid> eventIds);

    public abstract int VersionOf(TEnvelope envelope);

    /// <summary>The event's stored name, as the envelope carries it.</summary>
    public abstract string TypeOf(TEnvelope envelope);

    public abstract TEnvelope WithRecordedAt(TEnvelope envelope, DateTimeOffset recordedAt);

    public abstract TEnvelope WithTraceParent(TEnvelope envelope, string? traceParent);

    /// <summary>Envelopes for events of stream <paramref name="streamId"/> read back from the log, which follow <paramref name="before"/>.</summary>
    public List<TEnvelope> FromStored(string streamId, TState before, IReadOnlyList<StoredEvent> stored) =>
        stored.Count == 0
            ? []
            : [.. Build(
                streamId,
                before,
                [.. stored.Select(e => EventSerializer<TEvent>.Deserialize(e))],
                stored[0].Version,
                [.. stored.Select(e => e.EventId)])
                .Select((envelope, i) => WithRecordedAt(envelope, stored[i].RecordedAt))];

    /// <summary>
    /// Envelopes for the stream's stored events after <paramref name="afterVersion"/>, read back from
    /// <paramref name="store"/> (the log of this <see cref="Category"/>): what a republish delivers;
    /// none past a version the log lacks (<see cref="ContiguousCount"/>).
    /// </summary>
    public async Task<List<TEnvelope>> ReadAfterAsync(TableEventStore store, string streamId, int afterVersion, int maxCount = int.MaxValue)
    {
        var before = Fold(await store.LoadAtVersionAsync(streamId, afterVersion, readable: CanRead));
        var stored = await store.ReadEventsAsync(streamId, afterVersion + 1, maxCount);
        return FromStored(streamId, before, [.. stored.Take(ContiguousCount(stored, afterVersion + 1))]);
    }

    /// <summary>
    /// How many of <paramref name="stored"/> follow one another from <paramref name="firstVersion"/>.
    /// The log never gaps (its head row's ETag sees to that) unless rows were deleted by hand or
    /// restored in part: events past a missing version would be numbered, and folded, wrong
    /// (<see cref="FromStored"/> numbers them from the first).
    /// </summary>
    public static int ContiguousCount(IReadOnlyList<StoredEvent> stored, int firstVersion) =>
        stored.TakeWhile((e, i) => e.Version == firstVersion + i).Count();
}
