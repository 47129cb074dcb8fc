using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Serves one subject's key from <see cref="SubjectKeyStore"/>, caching the row for
/// <see cref="PersonalDataOptions.KeyCacheDuration"/>. Not reentrant: a creation and an erasure of
/// the same subject never interleave.
/// </summary>
/// <remarks>
/// Why a grain, not a per-silo cache: every silo asks this one activation, so an erasure (which
/// replaces the cached row by the tombstone before it returns) is seen by every later read on
/// every silo, with no invalidation messages. A missing row is never cached, so a restored key
/// table is read again at once.
/// </remarks>
public sealed class SubjectKeyGrain(SubjectKeyStore store, IOptions<PersonalDataOptions> options, TimeProvider time, ILogger<SubjectKeyGrain> logger)
    : Grain, ISubjectKeyGrain
{
    private SubjectKeyRecord? cached;
    private DateTimeOffset cachedAt;

    private string SubjectId => this.GetPrimaryKeyString();

    public async Task<byte[]?> GetOrCreateKey()
    {
        var record = await ReadAsync() ?? Cache(await store.CreateAsync(SubjectId));
        return record.Key;
    }

    public async Task<byte[]?> FindKey()
    {
        if (await ReadAsync() is { } record)
        {
            return record.Key;
        }

        logger.LogError(
            "Personal data of subject {SubjectId} was stored encrypted, but the key table {Table} holds neither their key nor an erasure tombstone: the key table lost rows. Restore it from backup (README \"Personal data\").",
            SubjectId, store.TableName);
        throw new PersonalDataKeyMissingException(
            $"The key of data subject '{SubjectId}' is missing from the key table, and no erasure is recorded: the key table lost rows and must be restored from backup.");
    }

    public async Task<bool> IsErased() => await ReadAsync() is { IsErased: true };

    public async Task Erase()
    {
        Cache(await store.EraseAsync(SubjectId, time.GetUtcNow()));
        logger.LogInformation("Subject {SubjectId}: key deleted (personal data erased).", SubjectId);
    }

    private async Task<SubjectKeyRecord?> ReadAsync()
    {
        if (cached is { } record && (record.IsErased || time.GetUtcNow() - cachedAt < options.Value.KeyCacheDuration))
        {
            return record; // a tombstone is final: nothing brings a key back
        }

        return await store.ReadAsync(SubjectId) is { } read ? Cache(read) : null;
    }

    private SubjectKeyRecord Cache(SubjectKeyRecord record)
    {
        cached = record;
        cachedAt = time.GetUtcNow();
        return record;
    }
}
