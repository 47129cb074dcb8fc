using System.Net;
using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// The data subjects' keys: one row per subject (partition = encoded subject id) holding a random
/// 256-bit key (wrapped under the key-encryption key when one is configured: <see cref="SubjectKeyWrapping"/>),
/// or, once erased, a tombstone without it. Kept apart from the events so that it can
/// be backed up, restored and access-controlled on its own (README "Personal data").
/// </summary>
public sealed class SubjectKeyStore
{
    public const int KeyBytes = 32;
    private const string RowKey = "key";
    private const string ErasedAtProperty = "ErasedAt";

    private readonly TableClient table;
    private readonly TableCreation creation;
    private readonly TimeSpan deadline;
    private readonly SubjectKeyWrapping wrapping;

    public SubjectKeyStore(TableServiceClient service, IOptions<PersonalDataOptions> options, IOptions<EventStoreOptions> eventStore, SubjectKeyWrapping wrapping)
    {
        this.wrapping = wrapping;
        table = service.GetTableClient(options.Value.KeysTableNameFor(eventStore.Value.TableName));
        creation = new TableCreation(table);
        deadline = eventStore.Value.OperationTimeout;
    }

    public string TableName => table.Name;

    /// <summary>The subject's row, or null when none is stored.</summary>
    public Task<SubjectKeyRecord?> ReadAsync(string subjectId, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(subjectId, deadline, async token =>
        {
            await creation.EnsureAsync(token);
            var row = await table.GetEntityIfExistsAsync<TableEntity>(KeyEncoding.Encode(subjectId), RowKey, cancellationToken: token);
            return row.HasValue ? await ToRecordAsync(row.Value!, subjectId, token) : null;
        }, cancellationToken);

    /// <summary>Stores a new random key for a subject that has no row; if another writer stored one first (a key or a tombstone), returns theirs.</summary>
    public Task<SubjectKeyRecord> CreateAsync(string subjectId, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(subjectId, deadline, async token =>
        {
            await creation.EnsureAsync(token);
            var key = RandomNumberGenerator.GetBytes(KeyBytes);
            var created = new TableEntity(KeyEncoding.Encode(subjectId), RowKey);
            await wrapping.WriteAsync(created, subjectId, key, token);
            try
            {
                await table.AddEntityAsync(created, token);
                return new SubjectKeyRecord(key, null);
            }
            catch (RequestFailedException conflict) when (conflict.Status == (int)HttpStatusCode.Conflict)
            {
                var row = await table.GetEntityAsync<TableEntity>(KeyEncoding.Encode(subjectId), RowKey, cancellationToken: token);
                return await ToRecordAsync(row.Value, subjectId, token);
            }
        }, cancellationToken);

    /// <summary>
    /// Replaces the subject's row by a tombstone: the key is gone, and the row says that it was
    /// erased (and when), so that a missing key is never mistaken for an erasure. Repeating it keeps
    /// the first erasure's time.
    /// </summary>
    public Task<SubjectKeyRecord> EraseAsync(string subjectId, DateTimeOffset erasedAt, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(subjectId, deadline, async token =>
        {
            await creation.EnsureAsync(token);
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(KeyEncoding.Encode(subjectId), RowKey, cancellationToken: token);
            // Read without unwrapping: an erasure needs no key-encryption key.
            if (existing.HasValue && existing.Value!.GetDateTimeOffset(ErasedAtProperty) is { } erasedBefore)
            {
                return new SubjectKeyRecord(null, erasedBefore);
            }

            // Replace, not merge: the key (plain or wrapped) must not survive.
            await table.UpsertEntityAsync(
                new TableEntity(KeyEncoding.Encode(subjectId), RowKey) { [ErasedAtProperty] = erasedAt }, TableUpdateMode.Replace, token);
            return new SubjectKeyRecord(null, erasedAt);
        }, cancellationToken);

    /// <summary>Whether the key table answers (readiness).</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) =>
        StorageErrors.Translate("keys", deadline, async token =>
        {
            await creation.EnsureAsync(token);
            await foreach (var _ in table.QueryAsync<TableEntity>(maxPerPage: 1, select: [RowKey], cancellationToken: token).AsPages(pageSizeHint: 1))
            {
                break;
            }
        }, cancellationToken);

    private async Task<SubjectKeyRecord> ToRecordAsync(TableEntity row, string subjectId, CancellationToken cancellationToken) =>
        await wrapping.ReadAsync(row, subjectId, cancellationToken) is { Length: KeyBytes } key
            ? new SubjectKeyRecord(key, null)
            : row.GetDateTimeOffset(ErasedAtProperty) is { } erasedAt
                ? new SubjectKeyRecord(null, erasedAt)
                : throw new InvalidDataException($"Key row {row.PartitionKey} holds neither a {KeyBytes}-byte key nor an erasure time.");
}
