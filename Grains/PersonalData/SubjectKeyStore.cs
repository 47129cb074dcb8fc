using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// The data subjects' keys, one partition per subject (partition = encoded subject id): a row per
/// key (RowKey <c>key-{id}</c>, a random 256-bit key, wrapped under the key-encryption key when one
/// is configured: <see cref="SubjectKeyWrapping"/>; the newest id is the current key), and the
/// row <c>key</c> of the build before key ids, which holds either that build's one key (id
/// <see cref="SubjectKey.LegacyId"/>) or, once the subject is erased, the tombstone. Keys of one
/// subject never conflict: a row restored from backup sits beside a key made since. Kept apart
/// from the events so that it can be backed up, restored and access-controlled on its own
/// (README "Personal data").
/// </summary>
public sealed class SubjectKeyStore
{
    public const int KeyBytes = 32;

    /// <summary>The row of the build before key ids: its key, or the tombstone (where that build looks for it too).</summary>
    private const string LegacyRowKey = SubjectKey.LegacyId;
    private const string KeyRowPrefix = "key-";
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

    /// <summary>The row key of the key <paramref name="keyId"/>.</summary>
    public static string RowKeyOf(string keyId) => keyId == SubjectKey.LegacyId ? LegacyRowKey : KeyRowPrefix + keyId;

    /// <summary>Everything stored for the subject (no key and no tombstone when nothing is).</summary>
    public Task<SubjectKeys> ReadAsync(string subjectId, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(StoreDescription.KeyTable, subjectId, deadline, async token =>
        {
            await creation.EnsureAsync(token);
            return await ToKeysAsync(subjectId, await ReadRowsAsync(subjectId, token), token);
        }, cancellationToken);

    /// <summary>
    /// Stores a new random key under a new id, which becomes the current one (ids grow with time),
    /// and returns what is stored then: a concurrent writer's newer key is current instead, and an
    /// erasure that came first wins (the new row is deleted again).
    /// </summary>
    public Task<SubjectKeys> CreateAsync(string subjectId, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(StoreDescription.KeyTable, subjectId, deadline, async token =>
        {
            await creation.EnsureAsync(token);
            var keyId = Guid.CreateVersion7().ToString("N");
            var created = new TableEntity(KeyEncoding.Encode(subjectId), RowKeyOf(keyId));
            await wrapping.WriteAsync(created, subjectId, RandomNumberGenerator.GetBytes(KeyBytes), token);
            await table.AddEntityAsync(created, token);
            var keys = await ToKeysAsync(subjectId, await ReadRowsAsync(subjectId, token), token);
            if (keys.IsErased)
            {
                await table.DeleteEntityAsync(KeyEncoding.Encode(subjectId), RowKeyOf(keyId), ETag.All, token);
            }

            return keys;
        }, cancellationToken);

    /// <summary>
    /// Erases the subject: writes the tombstone (the erasure, and when; from then on no key of
    /// theirs is read), then deletes every key row, so that a missing key is never mistaken for an
    /// erasure. Repeating it keeps the first erasure's time and deletes whatever key is still there.
    /// </summary>
    public Task<SubjectKeys> EraseAsync(string subjectId, DateTimeOffset erasedAt, CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(StoreDescription.KeyTable, subjectId, deadline, async token =>
        {
            await creation.EnsureAsync(token);
            var partition = KeyEncoding.Encode(subjectId);
            var legacyRow = await table.GetEntityIfExistsAsync<TableEntity>(partition, LegacyRowKey, cancellationToken: token);
            var tombstone = legacyRow.HasValue ? legacyRow.Value!.GetDateTimeOffset(ErasedAtProperty) : null;
            if (tombstone is null)
            {
                // Replace, not merge: the legacy key must not survive in the tombstone's row.
                await table.UpsertEntityAsync(new TableEntity(partition, LegacyRowKey) { [ErasedAtProperty] = erasedAt }, TableUpdateMode.Replace, token);
            }

            // Read after the tombstone is down: a key created before it is deleted here, and a key
            // created after it finds the tombstone and deletes itself (CreateAsync).
            foreach (var row in (await ReadRowsAsync(subjectId, token)).Where(row => row.RowKey.StartsWith(KeyRowPrefix, StringComparison.Ordinal)))
            {
                await table.DeleteEntityAsync(partition, row.RowKey, ETag.All, token);
            }

            return SubjectKeys.Erased(tombstone ?? erasedAt);
        }, cancellationToken);

    /// <summary>Whether the key table answers (readiness).</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) =>
        StorageErrors.Translate(StoreDescription.KeyTable, "(readiness check)", deadline, async token =>
        {
            await creation.EnsureAsync(token);
            await foreach (var _ in table.QueryAsync<TableEntity>(maxPerPage: 1, select: ["RowKey"], cancellationToken: token).AsPages(pageSizeHint: 1))
            {
                break;
            }
        }, cancellationToken);

    private async Task<List<TableEntity>> ReadRowsAsync(string subjectId, CancellationToken token)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(subjectId)}"), cancellationToken: token))
        {
            rows.Add(row);
        }

        return rows;
    }

    private async Task<SubjectKeys> ToKeysAsync(string subjectId, List<TableEntity> rows, CancellationToken token)
    {
        if (rows.Find(row => row.RowKey == LegacyRowKey)?.GetDateTimeOffset(ErasedAtProperty) is { } erasedAt)
        {
            return SubjectKeys.Erased(erasedAt); // a tombstone is final
        }

        var byId = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var keyId = row.RowKey == LegacyRowKey ? SubjectKey.LegacyId
                : row.RowKey.StartsWith(KeyRowPrefix, StringComparison.Ordinal) ? row.RowKey[KeyRowPrefix.Length..]
                : null;
            if (keyId is not null)
            {
                byId[keyId] = await ReadKeyAsync(subjectId, row, token);
            }
        }

        // The legacy key seals nothing new: its subject gets a key with an id at their next write.
        var current = byId.Keys.Where(id => id != SubjectKey.LegacyId).Order(StringComparer.Ordinal).LastOrDefault();
        return new SubjectKeys(byId, current, null);
    }

    private async Task<byte[]> ReadKeyAsync(string subjectId, TableEntity row, CancellationToken token) =>
        await wrapping.ReadAsync(row, subjectId, token) is { Length: KeyBytes } key
            ? key
            : throw new InvalidDataException($"Key row {row.PartitionKey}/{row.RowKey} holds neither a {KeyBytes}-byte key nor an erasure time.");
}
