using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrderFlow.Grains.EventStore;

/// <summary>A stream that changed from <paramref name="FromVersion"/> on, as the change index recorded it (in partition <paramref name="Partition"/>).</summary>
/// <param name="Category">
/// The stream's category (<see cref="StreamCategories"/>): its log is <see cref="EventLogs.For"/> it.
/// Rows written before categories existed carry none and are orders'.
/// </param>
public sealed record StreamChange(string StreamId, int FromVersion, string Partition, string RowKey, ETag ETag, string Category = StreamCategories.Order);

/// <summary>A page of the change index; <paramref name="Continuation"/> reads the next one, null after the last.</summary>
public sealed record ChangePage(IReadOnlyList<StreamChange> Changes, string? Continuation);

/// <summary>A change to record: the stream (of <paramref name="Category"/>) and the first version it is about to write.</summary>
public readonly record struct ChangeToRecord(string StreamId, int FromVersion, string Category = StreamCategories.Order);

/// <summary>
/// Which streams changed when. The event log has one partition per stream and no global order,
/// so "what was appended lately" cannot be asked of it without scanning every partition. Before a
/// writer appends, it records here the stream and the first version it is about to write, in a
/// partition of a time bucket (<see cref="EventStoreOptions.ChangeBucket"/>); a row is written once
/// per writer and bucket, not once per append. A reader that takes the rows of buckets that ended
/// more than an append's deadline ago sees every append that can still land in them; it removes
/// the rows it has dealt with, so the index holds only work still to do.
/// </summary>
/// <remarks>
/// The row is written before the append, in its own request, because a table transaction cannot
/// span partitions: a row without its append (the append failed) is harmless, whereas an append
/// without its row could be missed. Rows of many writers share a request
/// (<see cref="RecordGroupAsync"/>, through the silo's <see cref="ChangeAnnouncer"/>): nothing but
/// the bucket ties a row to its partition, so a group goes to one partition of its bucket, and a
/// silo's groups fill one partition before they take the next (see <see cref="SpreadFor"/>).
/// </remarks>
public sealed class ChangeIndex
{
    private const string StreamIdProperty = "StreamId";
    private const string FromVersionProperty = "FromVersion";
    private const string CategoryProperty = "Category";

    /// <summary>Bucket ends, sortable as text.</summary>
    private const string BucketFormat = "yyyyMMdd'T'HHmmss";

    /// <summary>
    /// Partitions each bucket is spread over. One Azure Table partition serves up to about 2,000
    /// entities per second; every order activation announces itself once per bucket, so 16 carry
    /// the first commands of some 30,000 orders per second.
    /// </summary>
    public const int PartitionsPerBucket = 16;

    /// <summary>
    /// The spread groups are written to (<see cref="SpreadFor"/>). Starts anywhere, so that silos do
    /// not all begin with the same one.
    /// </summary>
    private int filling = Random.Shared.Next(PartitionsPerBucket);

    /// <summary>The bucket whose partition <see cref="filling"/> is being filled, and the rows written there so far.</summary>
    private string? fillingBucket;

    private int rowsInFilling;

    private readonly Lock spreadGate = new();

    private readonly TableClient table;
    private readonly TimeSpan operationTimeout;
    private readonly long bucketTicks;
    private readonly ILogger<ChangeIndex> logger;
    private readonly TableCreation creation;

    public ChangeIndex(TableServiceClient service, IOptions<EventStoreOptions> options, ILogger<ChangeIndex> logger)
    {
        var settings = options.Value;
        if (settings.ChangeBucket < EventStoreOptions.MinChangeBucket)
        {
            throw new ArgumentOutOfRangeException(nameof(options), settings.ChangeBucket, $"{EventStoreOptions.Section}:ChangeBucket must be at least one second.");
        }

        table = service.GetTableClient(settings.ChangesTableName ?? settings.TableName + "changes");
        creation = new TableCreation(table);
        operationTimeout = settings.OperationTimeout;
        bucketTicks = settings.ChangeBucket.Ticks;
        this.logger = logger;
    }

    public string TableName => table.Name;

    /// <summary>The bucket <paramref name="at"/> falls in: its end, as the start of the PartitionKeys of its partitions.</summary>
    public string BucketOf(DateTimeOffset at)
    {
        var end = at.UtcTicks - at.UtcTicks % bucketTicks + bucketTicks;
        return new DateTime(end, DateTimeKind.Utc).ToString(BucketFormat, CultureInfo.InvariantCulture);
    }

    /// <summary>The partition in which a change of <paramref name="streamId"/> at <paramref name="at"/> is recorded on its own: its bucket's end and a spread.</summary>
    public string PartitionOf(string streamId, DateTimeOffset at) =>
        PartitionOf(BucketOf(at), (int)((uint)StringComparer.Ordinal.GetHashCode(streamId) % PartitionsPerBucket));

    /// <summary>Records that <paramref name="streamId"/> is about to change from <paramref name="fromVersion"/> on, in <paramref name="partition"/> (see <see cref="PartitionOf"/>).</summary>
    /// <exception cref="Storage.StorageUnavailableException">Storage could not be reached: the append must not go ahead.</exception>
    public Task RecordAsync(string streamId, int fromVersion, string partition, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(streamId, operationTimeout, async token =>
        {
            await EnsureTableAsync(token);
            await table.UpsertEntityAsync(RowOf(partition, new ChangeToRecord(streamId, fromVersion)), TableUpdateMode.Replace, token);
        }, cancellationToken);

    /// <summary>
    /// Records <paramref name="changes"/> (distinct, at most <see cref="TableLimits.MaxEntitiesPerTransaction"/>)
    /// in one request: all or none, in one partition of the bucket of <paramref name="at"/>, which
    /// it returns (see <see cref="BucketOf"/>). A row is bounded by the key limits
    /// (<see cref="TableLimits.MaxKeyChars"/>), so a full group stays far below
    /// <see cref="TableLimits.MaxTransactionBytes"/>.
    /// </summary>
    /// <exception cref="Storage.StorageUnavailableException">Storage could not be reached: no append of these changes may go ahead.</exception>
    public Task<string> RecordGroupAsync(IReadOnlyCollection<ChangeToRecord> changes, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(changes.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(changes.Count, TableLimits.MaxEntitiesPerTransaction);
        var bucket = BucketOf(at);
        var partition = PartitionOf(bucket, SpreadFor(bucket, changes.Count));
        var label = changes.Count == 1 ? changes.First().StreamId : "(change index)";
        return StorageErrors.Translate(label, operationTimeout, async token =>
        {
            await EnsureTableAsync(token);
            if (changes.Count == 1)
            {
                // A lone row is a plain upsert: the same one request, without a transaction's envelope.
                await table.UpsertEntityAsync(RowOf(partition, changes.First()), TableUpdateMode.Replace, token);
            }
            else
            {
                await table.SubmitTransactionAsync(
                    changes.Select(change => new TableTransactionAction(TableTransactionActionType.UpsertReplace, RowOf(partition, change))), token);
            }

            return bucket;
        }, cancellationToken);
    }

    /// <summary>Up to <paramref name="max"/> recorded changes of buckets that ended before <paramref name="before"/> (to the second), oldest bucket first.</summary>
    public async Task<IReadOnlyList<StreamChange>> ReadEndedBeforeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken = default)
    {
        var (changes, unreadable) = await StorageErrors.Translate("(change index)", operationTimeout, async token =>
        {
            await EnsureTableAsync(token);
            var changes = new List<StreamChange>();
            var unreadable = new List<TableEntity>();
            var cutoff = new DateTime(before.UtcTicks - before.UtcTicks % TimeSpan.TicksPerSecond, DateTimeKind.Utc).ToString(BucketFormat, CultureInfo.InvariantCulture);
            var filter = TableClient.CreateQueryFilter($"PartitionKey lt {cutoff}");
            await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: token))
            {
                if (ChangeOf(entity) is not { } change)
                {
                    unreadable.Add(entity);
                    continue;
                }

                changes.Add(change);
                if (changes.Count == max)
                {
                    break;
                }
            }

            return (changes, unreadable);
        }, cancellationToken);

        await RemoveUnreadableAsync(unreadable, cancellationToken);
        return changes;
    }

    /// <summary>
    /// One page of every recorded change, settled or not (the catch-up after a silo died reads
    /// them all); <paramref name="continuation"/> is the previous page's, null for the first. Rows
    /// that name no stream are left out, and removed.
    /// </summary>
    public async Task<ChangePage> ReadPageAsync(string? continuation, int max, CancellationToken cancellationToken = default)
    {
        var (page, unreadable) = await StorageErrors.Translate("(change index)", operationTimeout, async token =>
        {
            await EnsureTableAsync(token);
            await foreach (var page in table.QueryAsync<TableEntity>(maxPerPage: Math.Clamp(max, 1, 1000), cancellationToken: token).AsPages(continuation))
            {
                var read = page.Values.Select(entity => (Entity: entity, Change: ChangeOf(entity))).ToList();
                return (new ChangePage([.. read.Select(row => row.Change).OfType<StreamChange>()], page.ContinuationToken),
                    read.Where(row => row.Change is null).Select(row => row.Entity).ToList());
            }

            return (new ChangePage([], null), []);
        }, cancellationToken);

        await RemoveUnreadableAsync(unreadable, cancellationToken);
        return page;
    }

    /// <summary>
    /// Removes changes that have been dealt with, a transaction per partition and 100 rows (each
    /// with its own deadline). A row recorded again since it was read (its ETag changed) stays, to
    /// be dealt with again.
    /// </summary>
    public async Task RemoveAsync(IReadOnlyList<StreamChange> changes, CancellationToken cancellationToken = default)
    {
        foreach (var partition in changes.GroupBy(c => c.Partition))
        {
            foreach (var chunk in partition.Chunk(TableLimits.MaxEntitiesPerTransaction))
            {
                var rows = chunk.Select(c => new RowToDelete(c.Partition, c.RowKey, c.ETag)).ToList();
                await StorageErrors.Translate("(change index)", operationTimeout, token => TableRowDeletion.DeleteGroupAsync(table, rows, LeftAsItIs, token), cancellationToken);
            }
        }
    }

    /// <summary>
    /// The spread of a group of <paramref name="rows"/> in <paramref name="bucket"/>: groups fill one
    /// partition up to what one transaction removes (<see cref="TableLimits.MaxEntitiesPerTransaction"/>)
    /// before the next partition is taken. The reconciliation removes a bucket's rows with one
    /// transaction per partition and 100 rows, so rows spread over every partition at a low rate
    /// cost a transaction each to remove; a full partition costs one. Full groups (100 waiting at
    /// once) still land in different partitions; a partition's 100 rows are a target, not a limit
    /// (groups of two minutes taken out of order may pass it, which costs one more removal).
    /// </summary>
    private int SpreadFor(string bucket, int rows)
    {
        lock (spreadGate)
        {
            if (bucket != fillingBucket)
            {
                fillingBucket = bucket;
                rowsInFilling = 0;
            }
            else if (rowsInFilling + rows > TableLimits.MaxEntitiesPerTransaction)
            {
                filling = (filling + 1) % PartitionsPerBucket;
                rowsInFilling = 0;
            }

            rowsInFilling += rows;
            return filling;
        }
    }

    private void LeftAsItIs(RowToDelete row) =>
        logger.LogDebug("Change {Partition}/{RowKey} was removed or recorded again meanwhile; left as it is.", row.PartitionKey, row.RowKey);

    private static string PartitionOf(string bucket, int spread) =>
        bucket + "-" + spread.ToString("D2", CultureInfo.InvariantCulture);

    private static TableEntity RowOf(string partition, ChangeToRecord change) =>
        new(partition, KeyEncoding.ChangeRowKey(change.Category, change.StreamId, change.FromVersion))
        {
            [StreamIdProperty] = change.StreamId,
            [FromVersionProperty] = change.FromVersion,
            [CategoryProperty] = change.Category,
        };

    /// <summary>
    /// The change a row records, by its properties, or else by its RowKey, which names the same
    /// (<see cref="KeyEncoding.ChangeRowKey(string, string, int)"/>): a row whose properties were
    /// damaged still announces its stream. Null for a row that names no stream or version either way.
    /// </summary>
    private StreamChange? ChangeOf(TableEntity entity)
    {
        if (entity.TryGetValue(StreamIdProperty, out var stream) && stream is string { Length: > 0 } streamId
            && entity.TryGetValue(FromVersionProperty, out var from) && from is int fromVersion and > 0
            && (!entity.TryGetValue(CategoryProperty, out var category) || category is string))
        {
            return new(streamId, fromVersion, entity.PartitionKey, entity.RowKey, entity.ETag, entity.GetString(CategoryProperty) ?? StreamCategories.Order);
        }

        if (KeyEncoding.TryParseChangeRowKey(entity.RowKey, out var keyCategory, out var keyStreamId, out var keyFromVersion))
        {
            logger.LogWarning("Change {Partition}/{RowKey} has unreadable properties; it is read by its RowKey ({Category} '{StreamId}' from version {FromVersion}).",
                entity.PartitionKey, entity.RowKey, keyCategory, keyStreamId, keyFromVersion);
            return new(keyStreamId, keyFromVersion, entity.PartitionKey, entity.RowKey, entity.ETag, keyCategory);
        }

        return null;
    }

    /// <summary>
    /// A row that names no stream, by its properties or its RowKey, can never be dealt with, and
    /// read oldest first it would stop every pass and catch-up behind it: it is left out, logged and
    /// removed (a rebuild counts whatever it announced). Best effort, after the read: a removal that
    /// fails is tried again at the next read.
    /// </summary>
    private async Task RemoveUnreadableAsync(List<TableEntity> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
        {
            logger.LogError("Change {Partition}/{RowKey} names no stream or version, by its properties ({Properties}) or its RowKey; it is removed unreconciled.",
                row.PartitionKey, row.RowKey, string.Join(", ", row.Keys.Where(key => key is not ("odata.etag" or "PartitionKey" or "RowKey" or "Timestamp"))));
            try
            {
                await StorageErrors.Translate("(change index)", operationTimeout,
                    token => TableRowDeletion.DeleteGroupAsync(table, [new RowToDelete(row.PartitionKey, row.RowKey, row.ETag)], LeftAsItIs, token), cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Change {Partition}/{RowKey} could not be removed; it is left out of every read meanwhile.", row.PartitionKey, row.RowKey);
            }
        }
    }

    private Task EnsureTableAsync(CancellationToken cancellationToken) => creation.EnsureAsync(cancellationToken);
}
