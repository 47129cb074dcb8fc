using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// The event log on Azure Table Storage. One partition per stream (aggregate): event rows keyed by
/// zero-padded version, snapshot rows keyed by inverted version (newest first), and idempotency
/// rows keyed by the client's key. An append is one entity-group transaction of inserts, so it is
/// all or nothing and can never overwrite: a version that exists means another writer won.
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

    private readonly TableClient table;
    private readonly TimeSpan operationTimeout;
    private readonly TimeProvider time;
    private readonly ILogger<TableEventStore> logger;
    private readonly TableCreation creation;

    public TableEventStore(TableServiceClient service, IOptions<EventStoreOptions> options, TimeProvider time, ILogger<TableEventStore> logger)
    {
        table = service.GetTableClient(options.Value.TableName);
        creation = new TableCreation(table);
        operationTimeout = options.Value.OperationTimeout;
        this.time = time;
        this.logger = logger;
    }

    public string TableName => table.Name;

    /// <summary>
    /// Appends <paramref name="events"/> as versions <paramref name="expectedVersion"/> + 1 onwards,
    /// together with an optional snapshot and idempotency record, in one transaction.
    /// <paramref name="publishedThrough"/> is stored with the rows: the writer's knowledge of how far
    /// the stream had been published to consumers, so that a later reader can publish the rest.
    /// </summary>
    /// <exception cref="ConcurrencyConflictException">The stream is past <paramref name="expectedVersion"/>; nothing was written.</exception>
    /// <exception cref="EventTooLargeException">An entity or the transaction exceeds a storage limit; nothing was written.</exception>
    /// <exception cref="Storage.StorageUnavailableException">Storage could not be reached; nothing was written.</exception>
    public async Task AppendAsync(
        string streamId,
        int expectedVersion,
        IReadOnlyList<EventToAppend> events,
        Snapshot? snapshot = null,
        IdempotencyRecord? idempotency = null,
        int? publishedThrough = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        if (events.Count == 0)
        {
            throw new ArgumentException("An append needs at least one event.", nameof(events));
        }

        var partitionKey = KeyEncoding.Encode(streamId);
        var recordedAt = time.GetUtcNow();
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
            entities.Add(new TableEntity(partitionKey, KeyEncoding.IdempotencyRowKey(idempotency.Key))
            {
                [RequestHashProperty] = idempotency.RequestHash,
                [VersionProperty] = idempotency.ResultVersion,
                [RecordedAtProperty] = recordedAt,
            });
        }

        EnsureWithinLimits(streamId, entities);
        await StorageErrors.TranslateWrite(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            try
            {
                await table.SubmitTransactionAsync(
                    entities.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)),
                    cancellationToken);
            }
            catch (RequestFailedException failed) when (failed.Status == 409)
            {
                // The SDK retries a request whose answer was lost; if our first attempt landed, the
                // retry collides with our own rows. Tell that apart from another writer by event id.
                if (await IsAlreadyAppendedAsync(partitionKey, expectedVersion + 1, events[0].EventId, cancellationToken))
                {
                    logger.LogInformation("Append to {StreamId} at version {Version} had already landed; treating the retry as success.", streamId, expectedVersion + 1);
                    return;
                }

                throw new ConcurrencyConflictException(streamId, expectedVersion);
            }
        }, cancellationToken);
    }

    /// <summary>The newest snapshot and every event after it: everything needed to rebuild the current state.</summary>
    public Task<StreamSlice> LoadLatestAsync(string streamId, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            var partitionKey = KeyEncoding.Encode(streamId);
            var snapshot = await FirstSnapshotFromAsync(partitionKey, KeyEncoding.SnapshotPrefix, cancellationToken);
            var events = await QueryEventsAsync(partitionKey, (snapshot?.Version ?? 0) + 1, int.MaxValue, int.MaxValue, cancellationToken);
            return new StreamSlice(snapshot, events);
        }, cancellationToken);

    /// <summary>The newest snapshot at or before <paramref name="version"/> and the events after it up to <paramref name="version"/>.</summary>
    public Task<StreamSlice> LoadAtVersionAsync(string streamId, int version, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            ArgumentOutOfRangeException.ThrowIfNegative(version);
            var partitionKey = KeyEncoding.Encode(streamId);
            var snapshot = await FirstSnapshotFromAsync(partitionKey, KeyEncoding.SnapshotRowKey(version), cancellationToken);
            var events = await QueryEventsAsync(partitionKey, (snapshot?.Version ?? 0) + 1, version, int.MaxValue, cancellationToken);
            return new StreamSlice(snapshot, events);
        }, cancellationToken);

    /// <summary>
    /// What the stream looked like at event time <paramref name="asOf"/> (inclusive). Relies on
    /// event time never decreasing within a stream, which the aggregates enforce.
    /// </summary>
    public Task<StreamSlice> LoadAsOfAsync(string streamId, DateTimeOffset asOf, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async cancellationToken =>
        {
            await EnsureTableAsync(cancellationToken);
            var partitionKey = KeyEncoding.Encode(streamId);
            Snapshot? snapshot = null;
            var snapshotFilter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {partitionKey} and RowKey ge {KeyEncoding.SnapshotPrefix} and RowKey lt {SnapshotUpperBound} and LastOccurredAt le {asOf}");
            await foreach (var entity in table.QueryAsync<TableEntity>(snapshotFilter, maxPerPage: 1, cancellationToken: cancellationToken))
            {
                snapshot = ToSnapshot(entity);
                break;
            }

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
                ? new IdempotencyRecord(idempotencyKey, entity.GetString(RequestHashProperty)!, entity.GetInt32(VersionProperty)!.Value)
                : null;
        }, cancellationToken);

    /// <summary>
    /// Every event of every stream, stream by stream and in version order within each: what a
    /// projection rebuild reads. Pages through the table; each page is its own storage call.
    /// </summary>
    public async IAsyncEnumerable<(string StreamId, StoredEvent Event)> ScanAllAsync(
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
                yield return (KeyEncoding.Decode(entity.PartitionKey), ToStoredEvent(entity));
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
                $"An append may write at most {TableLimits.MaxEntitiesPerTransaction} rows (events, snapshot and idempotency record together); this one needs {entities.Count}.");
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

    private async Task<bool> IsAlreadyAppendedAsync(string partitionKey, int version, Guid eventId, CancellationToken cancellationToken)
    {
        var existing = await table.GetEntityIfExistsAsync<TableEntity>(
            partitionKey, KeyEncoding.EventRowKey(version), select: [EventIdProperty], cancellationToken: cancellationToken);
        return existing.HasValue && existing.Value?.GetGuid(EventIdProperty) == eventId;
    }

    private async Task<Snapshot?> FirstSnapshotFromAsync(string partitionKey, string fromRowKey, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partitionKey} and RowKey ge {fromRowKey} and RowKey lt {SnapshotUpperBound}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, cancellationToken: cancellationToken))
        {
            return ToSnapshot(entity);
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
