using System.Collections.Concurrent;
using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Telemetry;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// The event log on Azure Table Storage. One partition per stream (aggregate): event rows keyed by
/// zero-padded version, snapshot rows keyed by inverted version (newest first), idempotency rows
/// keyed by the client's key, unique-key rows (<see cref="UniqueKeyRecord"/>), and one head row recording the stream's version. An append is one
/// entity-group transaction: inserts of its rows, which can never overwrite (a version that exists
/// means another writer won), and the head's replacement conditional on the ETag the writer last
/// saw, so that it also fails when the stream is no longer where the writer saw it, including when
/// storage lost writes the writer had seen (a restore, an account failover to its recovery point).
/// </summary>
public sealed class TableEventStore
{
    private const string EventIdProperty = "EventId";
    private const string TypeProperty = "Type";
    private const string SchemaVersionProperty = "SchemaVersion";
    private const string OccurredAtProperty = "OccurredAt";
    private const string RecordedAtProperty = "RecordedAt";
    private const string CorrelationIdProperty = "CorrelationId";
    private const string CausationIdProperty = "CausationId";
    private const string VersionProperty = "Version";
    private const string RequestHashProperty = "RequestHash";
    private const string PublishedThroughProperty = "PublishedThrough";
    private const string ValueProperty = "Value";

    /// <summary>
    /// RowKey of a stream's head row: after the event rows ("0…"–"9…", below ':') and before the
    /// idempotency and snapshot rows, so that no event or snapshot range includes it, while the
    /// latest-events query of a load can end at it and read it in the same request.
    /// </summary>
    public const string HeadRowKey = "head";

    private readonly TableClient table;
    private readonly TimeSpan operationTimeout;
    private readonly TimeProvider time;
    private readonly ILogger<TableEventStore> logger;
    private readonly TableCreation creation;

    /// <summary>
    /// The snapshot kinds (type, schema) already warned about as passed over: after a rollback every
    /// load of a stream snapshotted by the later build passes one over, so each kind warns once and
    /// the rest go to Debug rather than flooding the log.
    /// </summary>
    private readonly ConcurrentDictionary<(string Type, int SchemaVersion), bool> passedOverKinds = new();

    /// <param name="tableName">The table of the log; <see cref="EventStoreOptions.TableName"/> (the orders') when null (see <see cref="EventLogs"/>).</param>
    public TableEventStore(
        TableServiceClient service, IOptions<EventStoreOptions> options, TimeProvider time, ILogger<TableEventStore> logger, string? tableName = null)
    {
        table = service.GetTableClient(tableName ?? options.Value.TableName);
        creation = new TableCreation(table);
        operationTimeout = options.Value.OperationTimeout;
        this.time = time;
        this.logger = logger;
    }

    public string TableName => table.Name;

    /// <summary>
    /// Appends <paramref name="events"/> as versions <paramref name="expectedVersion"/> + 1 onwards,
    /// together with an optional snapshot, idempotency record and unique keys, in one transaction.
    /// <paramref name="publishedThrough"/> is stored with the rows: the writer's knowledge of how far
    /// the stream had been published to consumers, so that a later reader can publish the rest.
    /// </summary>
    /// <param name="head">
    /// The stream's head as the writer last read or wrote it (<see cref="StreamSlice.Head"/>, or this
    /// method's result). <see cref="ExpectedHead.Unknown"/> (a writer that did not load the stream)
    /// costs a read of the head first, which must then record <paramref name="expectedVersion"/>.
    /// </param>
    /// <param name="uniqueKeys">Keys the stream records once (<see cref="UniqueKeyRecord"/>); one already recorded makes the append a conflict.</param>
    /// <returns>The head as this append left it; null when a retried request turned out to have landed and the head has moved on since (read it again by loading).</returns>
    /// <exception cref="ConcurrencyConflictException">The stream is past <paramref name="expectedVersion"/>, or its head is not the one the writer saw; nothing was written.</exception>
    /// <exception cref="EventTooLargeException">An entity or the transaction exceeds a storage limit; nothing was written.</exception>
    /// <exception cref="Storage.StorageUnavailableException">Storage could not be reached; nothing was written.</exception>
    public async Task<StreamHead?> AppendAsync(
        string streamId,
        int expectedVersion,
        IReadOnlyList<EventToAppend> events,
        Snapshot? snapshot = null,
        IdempotencyRecord? idempotency = null,
        int? publishedThrough = null,
        ExpectedHead head = default,
        IReadOnlyList<UniqueKeyRecord>? uniqueKeys = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        if (events.Count == 0)
        {
            throw new ArgumentException("An append needs at least one event.", nameof(events));
        }

        var partitionKey = KeyEncoding.Encode(streamId);
        var recordedAt = time.GetUtcNow();
        var newVersion = expectedVersion + events.Count;
        var entities = new List<TableEntity>(events.Count + 2);
        for (var i = 0; i < events.Count; i++)
        {
            entities.Add(ToEntity(partitionKey, expectedVersion + 1 + i, events[i], recordedAt));
        }

        if (snapshot is not null)
        {
            entities.Add(ToEntity(partitionKey, snapshot, recordedAt));
        }

        if (publishedThrough is { } marker)
        {
            foreach (var entity in entities)
            {
                entity[PublishedThroughProperty] = marker;
            }
        }

        if (idempotency is not null)
        {
            if (idempotency.ResultVersion != newVersion)
            {
                throw new ArgumentException($"An idempotency record must name the version the append produces ({newVersion}), not {idempotency.ResultVersion}.", nameof(idempotency));
            }

            entities.Add(new TableEntity(partitionKey, KeyEncoding.IdempotencyRowKey(idempotency.Key))
            {
                [RequestHashProperty] = idempotency.RequestHash,
                [VersionProperty] = idempotency.ResultVersion,
                [EventIdProperty] = events[^1].EventId,
                [RecordedAtProperty] = recordedAt,
            });
        }

        foreach (var unique in uniqueKeys ?? [])
        {
            entities.Add(new TableEntity(partitionKey, KeyEncoding.UniqueKeyRowKey(unique.Kind, unique.Key))
            {
                [ValueProperty] = unique.Value,
                [VersionProperty] = newVersion,
                [EventIdProperty] = events[^1].EventId,
                [RecordedAtProperty] = recordedAt,
            });
        }

        entities.Add(new TableEntity(partitionKey, HeadRowKey)
        {
            [VersionProperty] = newVersion,
            [RecordedAtProperty] = recordedAt,
        });

        EnsureWithinLimits(streamId, entities);
        return await RecordAppendAsync(Stopwatch.GetTimestamp(), StorageErrors.TranslateWrite(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            var expected = head.IsKnown ? head
                : expectedVersion == 0 ? ExpectedHead.None // a new stream: inserting the head fails if it exists
                : await ExpectedHeadAtAsync(streamId, partitionKey, expectedVersion, cancellationToken);
            var actions = entities.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)).ToList();
            if (expected.ETag is { } etag)
            {
                actions[^1] = new TableTransactionAction(TableTransactionActionType.UpdateReplace, entities[^1], etag);
            }
            else if (expectedVersion > 0)
            {
                // A stream written before heads existed: no ETag says it still ends where the writer
                // saw it end. A merge of nothing into the event row of the expected version fails
                // unless that row exists, so an append after events storage lost cannot gap. (The
                // head is inserted too, so this happens once per such stream.)
                actions.Insert(0, new TableTransactionAction(
                    TableTransactionActionType.UpdateMerge, new TableEntity(partitionKey, KeyEncoding.EventRowKey(expectedVersion)), ETag.All));
                if (actions.Count > TableLimits.MaxEntitiesPerTransaction)
                {
                    throw new ArgumentException(
                        $"An append may write at most {TableLimits.MaxEntitiesPerTransaction} rows (events, snapshot, idempotency record, unique keys, head and, for a stream written before heads existed, a check of its last event); this one needs {actions.Count}.");
                }
            }

            try
            {
                var responses = await table.SubmitTransactionAsync(actions, cancellationToken);
                return new StreamHead(newVersion, responses.Value[^1].Headers.ETag
                    ?? throw new InvalidDataException($"Storage answered an append to stream '{streamId}' without the head row's ETag."));
            }
            catch (RequestFailedException failed) when (IsConflict(failed))
            {
                // The SDK retries a request whose answer was lost; if our first attempt landed, the
                // retry collides with our own rows (or head). Tell that apart from another writer by event id.
                if (await IsAlreadyAppendedAsync(partitionKey, expectedVersion + 1, events[0].EventId, cancellationToken))
                {
                    logger.LogInformation("Append to {StreamId} at version {Version} had already landed; treating the retry as success.", streamId, expectedVersion + 1);
                    var landed = await ReadHeadRowAsync(partitionKey, cancellationToken);
                    return landed?.Version == newVersion ? landed : null;
                }

                throw new ConcurrencyConflictException(streamId, expectedVersion);
            }
        }, cancellationToken));
    }

    /// <summary>Records the time and outcome of the append <paramref name="append"/>, begun at <paramref name="started"/> (<see cref="OrderFlowTelemetry.AppendDuration"/>).</summary>
    private static async Task<StreamHead?> RecordAppendAsync(long started, Task<StreamHead?> append)
    {
        var outcome = "failed";
        try
        {
            var head = await append;
            outcome = "success";
            return head;
        }
        catch (ConcurrencyConflictException)
        {
            outcome = "conflict";
            throw;
        }
        finally
        {
            OrderFlowTelemetry.AppendDuration.Record(
                Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(OrderFlowTelemetry.AppendOutcomeTag, outcome));
        }
    }

    /// <summary>The stream's head row now (null when it has none).</summary>
    public Task<StreamHead?> ReadHeadAsync(string streamId, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            return await ReadHeadRowAsync(KeyEncoding.Encode(streamId), cancellationToken);
        }, cancellationToken);

    /// <summary>The newest snapshot and every event after it: everything needed to rebuild the current state.</summary>
    /// <param name="readable">
    /// Which snapshots the caller can read (<see cref="EventSourcing.EventSource{TState, TEvent, TEnvelope}.CanRead"/>);
    /// newer ones that it cannot (a later build's schema, after a rollback) are passed over, as if not taken.
    /// </param>
    public Task<StreamSlice> LoadLatestAsync(string streamId, CancellationToken cancellationToken = default, Func<Snapshot, bool>? readable = null) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            var partitionKey = KeyEncoding.Encode(streamId);
            var snapshot = await FirstSnapshotFromAsync(streamId, partitionKey, KeyEncoding.SnapshotPrefix, readable, cancellationToken);

            // The events after the snapshot and the head, which sorts right after them: one query.
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {partitionKey} and RowKey ge {KeyEncoding.EventRowKey((snapshot?.Version ?? 0) + 1)} and RowKey le {HeadRowKey}");
            var events = new List<StoredEvent>();
            StreamHead? head = null;
            await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                if (entity.RowKey == HeadRowKey)
                {
                    head = ToHead(entity);
                }
                else
                {
                    events.Add(ToStoredEvent(entity));
                }
            }

            var slice = new StreamSlice(snapshot, events, head);
            if (head is not null && head.Version != slice.Version)
            {
                // Writers of an earlier build (during a rolling upgrade), or storage that kept or
                // restored some rows of a transaction but not others. The events are the truth: the
                // next append is made after the last of them and replaces this head, conditional on
                // the ETag read just now.
                logger.LogError(
                    "Stream {StreamId}: its head row records version {HeadVersion} but its events end at version {Version}; going by the events.",
                    streamId, head.Version, slice.Version);
            }

            return slice;
        }, cancellationToken);

    /// <summary>The newest snapshot at or before <paramref name="version"/> and the events after it up to <paramref name="version"/>.</summary>
    /// <param name="readable">Which snapshots the caller can read (see <see cref="LoadLatestAsync"/>).</param>
    public Task<StreamSlice> LoadAtVersionAsync(string streamId, int version, CancellationToken cancellationToken = default, Func<Snapshot, bool>? readable = null) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            ArgumentOutOfRangeException.ThrowIfNegative(version);
            var partitionKey = KeyEncoding.Encode(streamId);
            var snapshot = await FirstSnapshotFromAsync(streamId, partitionKey, KeyEncoding.SnapshotRowKey(version), readable, cancellationToken);
            var events = await QueryEventsAsync(partitionKey, (snapshot?.Version ?? 0) + 1, version, int.MaxValue, cancellationToken);
            return new StreamSlice(snapshot, events);
        }, cancellationToken);

    /// <summary>
    /// What the stream looked like at event time <paramref name="asOf"/> (inclusive). Relies on
    /// event time never decreasing within a stream, which the aggregates enforce.
    /// </summary>
    /// <param name="readable">Which snapshots the caller can read (see <see cref="LoadLatestAsync"/>).</param>
    public Task<StreamSlice> LoadAsOfAsync(string streamId, DateTimeOffset asOf, CancellationToken cancellationToken = default, Func<Snapshot, bool>? readable = null) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            var partitionKey = KeyEncoding.Encode(streamId);
            var snapshot = await FirstReadableSnapshotAsync(streamId, TableClient.CreateQueryFilter(
                $"PartitionKey eq {partitionKey} and RowKey ge {KeyEncoding.SnapshotPrefix} and RowKey lt {SnapshotUpperBound} and LastOccurredAt le {asOf}"), readable, cancellationToken);

            var from = (snapshot?.Version ?? 0) + 1;
            var eventFilter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {partitionKey} and RowKey ge {KeyEncoding.EventRowKey(from)} and RowKey lt {KeyEncoding.EventRowKeyUpperBound} and OccurredAt le {asOf}");
            var events = new List<StoredEvent>();
            await foreach (var entity in table.QueryAsync<TableEntity>(eventFilter, cancellationToken: cancellationToken))
            {
                events.Add(ToStoredEvent(entity));
            }

            return new StreamSlice(snapshot, events);
        }, cancellationToken);

    /// <summary>Up to <paramref name="maxCount"/> events from <paramref name="fromVersion"/> on, in version order.</summary>
    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string streamId, int fromVersion, int maxCount, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, cancellationToken =>
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(fromVersion, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
            return QueryEventsAsync(KeyEncoding.Encode(streamId), fromVersion, int.MaxValue, maxCount, cancellationToken);
        }, cancellationToken);

    /// <summary>The record left by a command applied with <paramref name="idempotencyKey"/>, if any.</summary>
    public Task<IdempotencyRecord?> FindIdempotencyRecordAsync(string streamId, string idempotencyKey, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            var response = await table.GetEntityIfExistsAsync<TableEntity>(
                KeyEncoding.Encode(streamId), KeyEncoding.IdempotencyRowKey(idempotencyKey), cancellationToken: cancellationToken);
            return response.HasValue && response.Value is { } entity
                ? new IdempotencyRecord(idempotencyKey, entity.GetString(RequestHashProperty)!, entity.GetInt32(VersionProperty)!.Value, entity.ETag, entity.GetGuid(EventIdProperty))
                : null;
        }, cancellationToken);

    /// <summary>Whether the stream's event at <paramref name="version"/> is the one with <paramref name="eventId"/>: one point read.</summary>
    public Task<bool> HoldsEventAsync(string streamId, int version, Guid eventId, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            return await IsAlreadyAppendedAsync(KeyEncoding.Encode(streamId), version, eventId, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Removes <paramref name="record"/>, as read by <see cref="FindIdempotencyRecordAsync"/>, unless
    /// it was written since: for a record that storage kept without the events it names (a partial
    /// restore), which would otherwise answer every retry of its key. Returns false when it was
    /// written since (nothing removed); a record already gone counts as removed.
    /// </summary>
    public Task<bool> RemoveStaleIdempotencyRecordAsync(string streamId, IdempotencyRecord record, CancellationToken cancellationToken = default) =>
        RemoveUnlessWrittenSinceAsync(streamId, KeyEncoding.IdempotencyRowKey(record.Key), record.ETag.GetValueOrDefault(), cancellationToken);

    /// <remarks>A repair, not the command's write: harmless to repeat, so a failure is told as nothing written.</remarks>
    private Task<bool> RemoveUnlessWrittenSinceAsync(string streamId, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        if (etag == default)
        {
            throw new ArgumentException("Only a row read from storage, with its ETag, can be removed.", nameof(etag));
        }

        return StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            try
            {
                await table.DeleteEntityAsync(KeyEncoding.Encode(streamId), rowKey, etag, cancellationToken);
                return true;
            }
            catch (RequestFailedException failed) when (failed.Status is 404 or 412)
            {
                return failed.Status == 404;
            }
        }, cancellationToken);
    }

    /// <summary>The row recorded with <paramref name="key"/> of <paramref name="kind"/> (<see cref="UniqueKeyRecord"/>), or null when it was never recorded: one point read.</summary>
    public Task<RecordedUniqueKey?> FindUniqueKeyAsync(string streamId, string kind, string key, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            var response = await table.GetEntityIfExistsAsync<TableEntity>(
                KeyEncoding.Encode(streamId), KeyEncoding.UniqueKeyRowKey(kind, key), select: [ValueProperty, VersionProperty, EventIdProperty], cancellationToken: cancellationToken);
            return response.HasValue && response.Value is { } entity && entity.GetString(ValueProperty) is { } value
                ? new RecordedUniqueKey(value, entity.ETag, entity.GetInt32(VersionProperty), entity.GetGuid(EventIdProperty))
                : null;
        }, cancellationToken);

    /// <summary>
    /// Removes the row of <paramref name="key"/> of <paramref name="kind"/> as <paramref name="recorded"/>
    /// read it, unless it was written since: for a row that storage kept without the events it was
    /// written with (a partial restore). Returns false when it was written since (nothing removed); a
    /// row already gone counts as removed.
    /// </summary>
    public Task<bool> RemoveStaleUniqueKeyAsync(string streamId, string kind, string key, RecordedUniqueKey recorded, CancellationToken cancellationToken = default) =>
        RemoveUnlessWrittenSinceAsync(streamId, KeyEncoding.UniqueKeyRowKey(kind, key), recorded.ETag, cancellationToken);

    /// <summary>
    /// Every event of every stream, stream by stream and in version order within each: what a
    /// projection rebuild reads. Pages through the table; each page is its own storage call.
    /// </summary>
    /// <param name="onUnreadable">
    /// Told of each event row that cannot be read at all (damaged, or written by hand: a column
    /// missing or of the wrong type, a payload chunk missing), with its stream (its PartitionKey as
    /// stored when that does not decode), version (0 when the row key is none) and the error; the
    /// scan goes on without it. Without it, such a row ends the scan with its error: an enumerator
    /// cannot go on after throwing, so one damaged row would stop every rebuild.
    /// </param>
    public async IAsyncEnumerable<(string StreamId, StoredEvent Event)> ScanAllAsync(
        Action<string, int, Exception>? onUnreadable = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await StorageErrors.Translate("(scan)", operationTimeout, EnsureTableAsync, cancellationToken);
        var filter = TableClient.CreateQueryFilter($"RowKey lt {KeyEncoding.EventRowKeyUpperBound}");
        string? continuation = null;
        do
        {
            var page = await StorageErrors.Translate("(scan)", operationTimeout, async token =>
            {
                await foreach (var p in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: token).AsPages(continuation))
                {
                    return p;
                }

                return null;
            }, cancellationToken);
            if (page is null)
            {
                yield break;
            }

            foreach (var entity in page.Values)
            {
                // Reading a row is local work on what storage returned: whatever it throws is that row's
                // damage (a key that does not decode, a payload chunk missing), never the scan's.
                string? streamId = null;
                StoredEvent stored;
                try
                {
                    streamId = KeyEncoding.Decode(entity.PartitionKey);
                    stored = ToStoredEvent(entity);
                }
                catch (Exception unreadable) when (onUnreadable is not null && unreadable is not OperationCanceledException)
                {
                    onUnreadable(streamId ?? entity.PartitionKey, int.TryParse(entity.RowKey, out var version) ? version : 0, unreadable);
                    continue;
                }

                yield return (streamId, stored);
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
    }

    /// <summary>Asks storage a trivial question (one empty partition query): for readiness checks.</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) =>
        StorageErrors.Translate("(health)", operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {"~health"}");
            await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken).AsPages())
            {
                break;
            }
        }, cancellationToken);

    /// <summary>Creates the table if it does not exist yet; called once per process, retried after a failure.</summary>
    public Task EnsureTableAsync(CancellationToken cancellationToken = default) => creation.EnsureAsync(cancellationToken);

    private const string SnapshotUpperBound = "snapshot."; // '.' follows '-' in ASCII: the end of the "snapshot-" range

    private static void EnsureWithinLimits(string streamId, List<TableEntity> entities)
    {
        if (entities.Count > TableLimits.MaxEntitiesPerTransaction)
        {
            throw new ArgumentException(
                $"An append may write at most {TableLimits.MaxEntitiesPerTransaction} rows (events, snapshot, idempotency record, unique keys and the stream's head together); this one needs {entities.Count}.");
        }

        long total = 0;
        foreach (var entity in entities)
        {
            var size = EntitySize.Of(entity);
            if (size > TableLimits.MaxEntityBytes)
            {
                throw new EventTooLargeException(streamId, size, TableLimits.MaxEntityBytes);
            }

            total += size;
        }

        if (total > TableLimits.MaxTransactionBytes)
        {
            throw new EventTooLargeException(streamId, total, TableLimits.MaxTransactionBytes);
        }
    }

    /// <summary>
    /// 409: a row the append inserts exists (an event version, the head of a stream the writer took
    /// for new, an idempotency record, a unique key). 412: the head's ETag changed. 404: the head the writer saw
    /// is gone (storage lost it). Each means the stream is not where the writer saw it.
    /// </summary>
    private static bool IsConflict(RequestFailedException failed) =>
        failed.Status is 409 or 412 || (failed.Status == 404 && failed.ErrorCode is not "TableNotFound");

    /// <summary>For a writer that has not read the head: the head it may replace, which must record <paramref name="expectedVersion"/>.</summary>
    private async Task<ExpectedHead> ExpectedHeadAtAsync(string streamId, string partitionKey, int expectedVersion, CancellationToken cancellationToken)
    {
        var head = await ReadHeadRowAsync(partitionKey, cancellationToken);
        if (head is not null && head.Version != expectedVersion)
        {
            throw new ConcurrencyConflictException(streamId, expectedVersion);
        }

        return ExpectedHead.Of(head);
    }

    private async Task<StreamHead?> ReadHeadRowAsync(string partitionKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, HeadRowKey, cancellationToken: cancellationToken);
        return response.HasValue && response.Value is { } entity ? ToHead(entity) : null;
    }

    private static StreamHead ToHead(TableEntity entity) => new(entity.GetInt32(VersionProperty)!.Value, entity.ETag);

    private async Task<bool> IsAlreadyAppendedAsync(string partitionKey, int version, Guid eventId, CancellationToken cancellationToken)
    {
        var existing = await table.GetEntityIfExistsAsync<TableEntity>(
            partitionKey, KeyEncoding.EventRowKey(version), select: [EventIdProperty], cancellationToken: cancellationToken);
        return existing.HasValue && existing.Value?.GetGuid(EventIdProperty) == eventId;
    }

    private async Task<Snapshot?> FirstSnapshotFromAsync(
        string streamId, string partitionKey, string fromRowKey, Func<Snapshot, bool>? readable, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return await FirstReadableSnapshotAsync(streamId, TableClient.CreateQueryFilter(
            $"PartitionKey eq {partitionKey} and RowKey ge {fromRowKey} and RowKey lt {SnapshotUpperBound}"), readable, cancellationToken);
    }

    /// <summary>The newest of the snapshots <paramref name="filter"/> finds (they sort newest first) that the caller can read.</summary>
    private async Task<Snapshot?> FirstReadableSnapshotAsync(string streamId, string filter, Func<Snapshot, bool>? readable, CancellationToken cancellationToken)
    {
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, cancellationToken: cancellationToken))
        {
            var snapshot = ToSnapshot(entity);
            if (readable is null || readable(snapshot))
            {
                return snapshot;
            }

            OrderFlowTelemetry.SnapshotsPassedOver.Add(1, new KeyValuePair<string, object?>(OrderFlowTelemetry.SnapshotKindTag, snapshot.Type + "/" + snapshot.SchemaVersion));
            logger.Log(
                passedOverKinds.TryAdd((snapshot.Type, snapshot.SchemaVersion), true) ? LogLevel.Warning : LogLevel.Debug,
                "Stream {StreamId}: its snapshot at version {Version} is a {Type} of schema {SchemaVersion}, which this build does not read (a later build's, after a rollback?); passed over, the events folded instead. Further snapshots of this kind are logged at Debug.",
                streamId, snapshot.Version, snapshot.Type, snapshot.SchemaVersion);
        }

        return null;
    }

    private async Task<IReadOnlyList<StoredEvent>> QueryEventsAsync(
        string partitionKey, int fromVersion, int toVersion, int maxCount, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var events = new List<StoredEvent>();
        if (fromVersion > toVersion)
        {
            return events;
        }

        var upper = toVersion == int.MaxValue ? KeyEncoding.EventRowKeyUpperBound : KeyEncoding.EventRowKey(toVersion + 1);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partitionKey} and RowKey ge {KeyEncoding.EventRowKey(fromVersion)} and RowKey lt {upper}");
        int? pageSize = maxCount == int.MaxValue ? null : Math.Min(maxCount, 1000);
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken))
        {
            events.Add(ToStoredEvent(entity));
            if (events.Count == maxCount)
            {
                break;
            }
        }

        return events;
    }

    private static TableEntity ToEntity(string partitionKey, int version, EventToAppend @event, DateTimeOffset recordedAt)
    {
        var entity = new TableEntity(partitionKey, KeyEncoding.EventRowKey(version))
        {
            [EventIdProperty] = @event.EventId,
            [TypeProperty] = @event.Type,
            [SchemaVersionProperty] = @event.SchemaVersion,
            [OccurredAtProperty] = @event.OccurredAt,
            [RecordedAtProperty] = recordedAt,
            [CorrelationIdProperty] = @event.CorrelationId,
            [CausationIdProperty] = @event.CausationId,
        };
        ChunkedPayload.Write(entity, @event.Data);
        return entity;
    }

    private static TableEntity ToEntity(string partitionKey, Snapshot snapshot, DateTimeOffset recordedAt)
    {
        var entity = new TableEntity(partitionKey, KeyEncoding.SnapshotRowKey(snapshot.Version))
        {
            [VersionProperty] = snapshot.Version,
            [TypeProperty] = snapshot.Type,
            [SchemaVersionProperty] = snapshot.SchemaVersion,
            ["LastOccurredAt"] = snapshot.LastOccurredAt,
            [RecordedAtProperty] = recordedAt,
        };
        ChunkedPayload.Write(entity, snapshot.Data);
        return entity;
    }

    private static StoredEvent ToStoredEvent(TableEntity entity) => new(
        KeyEncoding.VersionOf(entity.RowKey),
        entity.GetGuid(EventIdProperty) ?? Guid.Empty,
        entity.GetString(TypeProperty)!,
        entity.GetInt32(SchemaVersionProperty) ?? 1,
        entity.GetDateTimeOffset(OccurredAtProperty)!.Value,
        entity.GetDateTimeOffset(RecordedAtProperty)!.Value,
        entity.GetString(CorrelationIdProperty),
        entity.GetString(CausationIdProperty),
        ChunkedPayload.Read(entity),
        entity.GetInt32(PublishedThroughProperty));

    private static Snapshot ToSnapshot(TableEntity entity) => new(
        entity.GetInt32(VersionProperty)!.Value,
        entity.GetString(TypeProperty)!,
        entity.GetInt32(SchemaVersionProperty) ?? 1,
        entity.GetDateTimeOffset("LastOccurredAt")!.Value,
        ChunkedPayload.Read(entity),
        entity.GetInt32(PublishedThroughProperty));
}
