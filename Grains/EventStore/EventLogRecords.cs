using Azure;

namespace OrderFlow.Grains.EventStore;

/// <summary>An event to append, already serialized. Its version is assigned by its position in the append.</summary>
public sealed record EventToAppend(
    Guid EventId,
    string Type,
    int SchemaVersion,
    DateTimeOffset OccurredAt,
    string? CorrelationId,
    string? CausationId,
    string Data);

/// <summary>An event as read back from the log.</summary>
/// <param name="PublishedThrough">The publication marker written with the event's append: every version up to it had been published by then.</param>
public sealed record StoredEvent(
    int Version,
    Guid EventId,
    string Type,
    int SchemaVersion,
    DateTimeOffset OccurredAt,
    DateTimeOffset RecordedAt,
    string? CorrelationId,
    string? CausationId,
    string Data,
    int? PublishedThrough = null);

/// <summary>The state of a stream right after <paramref name="Version"/>, serialized.</summary>
public sealed record Snapshot(int Version, string Type, int SchemaVersion, DateTimeOffset LastOccurredAt, string Data, int? PublishedThrough = null);

/// <summary>
/// Proof that a command carrying an idempotency key was applied: the hash of the request and the
/// stream version it produced, so that a retry can be answered with the same result.
/// </summary>
/// <param name="ETag">The row's ETag, on a record read from storage (an append ignores it).</param>
/// <param name="EventId">
/// The id of the event at <paramref name="ResultVersion"/>, on a record read from storage (an append
/// writes its last event's): a record whose version holds another event outlived its own (a partial
/// restore). Null for records written before 2026-12-02.
/// </param>
public sealed record IdempotencyRecord(string Key, string RequestHash, int ResultVersion, ETag? ETag = null, Guid? EventId = null);

/// <summary>
/// A key that a stream records at most once, with a value (an order's refund id and its amount):
/// one row per key in the stream's partition, so that checking a key is a point read however many
/// the stream holds, and an append that records a key already recorded fails as a conflict.
/// </summary>
/// <param name="Kind">What the key is (keys of different kinds never collide).</param>
public sealed record UniqueKeyRecord(string Kind, string Key, string Value);

/// <summary>
/// A <see cref="UniqueKeyRecord"/> as stored: its value, its row's ETag and the last event of the
/// append that recorded it, by which a row that outlived its events (a partial restore) is told
/// from a true one. <paramref name="Version"/> and <paramref name="EventId"/> are null on rows
/// written before 2026-12-02.
/// </summary>
public sealed record RecordedUniqueKey(string Value, ETag ETag, int? Version, Guid? EventId);

/// <summary>
/// What is needed to rebuild a stream's state up to some point: the newest usable snapshot (if
/// any) and the events after it, in order.
/// </summary>
/// <param name="Head">The stream's head row as read with the slice (null: none stored, a new stream or one written before heads existed); only <see cref="TableEventStore.LoadLatestAsync"/> reads it.</param>
public sealed record StreamSlice(Snapshot? Snapshot, IReadOnlyList<StoredEvent> Events, StreamHead? Head = null)
{
    public static StreamSlice Empty { get; } = new(null, []);

    /// <summary>
    /// Its personal members were decrypted (<see cref="PersonalData.PersonalDataProtector.RevealAsync(StreamSlice, Func{string, Type?}, Type, System.Text.Json.JsonSerializerOptions)"/>):
    /// the values are the subject's own text, which a fold must not strip, even one that reads like
    /// a sealed value ("pd2.…" is a valid name or email).
    /// </summary>
    public bool Revealed { get; init; }

    /// <summary>The publication marker of the slice's last row (null for an empty stream or rows written without one).</summary>
    public int? PublishedThrough => Events.Count > 0 ? Events[^1].PublishedThrough : Snapshot?.PublishedThrough;

    /// <summary>The version the slice reaches: its last event's, else its snapshot's, else 0.</summary>
    public int Version => Events.Count > 0 ? Events[^1].Version : Snapshot?.Version ?? 0;
}

/// <summary>
/// A stream's head row as read or written: the version it records and its ETag. Every append
/// replaces it, conditional on the ETag its writer last saw, in the same transaction as the events.
/// </summary>
public sealed record StreamHead(int Version, ETag ETag);

/// <summary>What an appender knows of the stream's head row, which its append must find unchanged.</summary>
public readonly record struct ExpectedHead
{
    private ExpectedHead(bool isKnown, ETag? etag)
    {
        IsKnown = isKnown;
        ETag = etag;
    }

    /// <summary>The appender has not read the head: the store reads it and requires it to record the expected version.</summary>
    public static ExpectedHead Unknown => default;

    /// <summary>The appender found no head row (a new stream, or one written before heads existed): the append inserts it.</summary>
    public static ExpectedHead None { get; } = new(true, null);

    public bool IsKnown { get; }

    /// <summary>The ETag the head must still have; null when it must not exist (or is unknown).</summary>
    public ETag? ETag { get; }

    public static ExpectedHead Of(StreamHead? head) => head is null ? None : new(true, head.ETag);
}
