using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Serves one subject's keys from <see cref="SubjectKeyStore"/>, caching what it read for
/// <see cref="PersonalDataOptions.KeyCacheDuration"/>. Not reentrant: a creation and an erasure of
/// the same subject never interleave.
/// </summary>
/// <remarks>
/// Why a grain, not a per-silo cache: every silo asks this one activation, so an erasure (which
/// replaces the cached keys by the tombstone before it returns) is seen by every later read on
/// every silo, with no invalidation messages. A key missing from the cache is read again before
/// anything is concluded, so a restored key row is seen at once.
/// </remarks>
public sealed class SubjectKeyGrain(SubjectKeyStore store, IOptions<PersonalDataOptions> options, TimeProvider time, ILogger<SubjectKeyGrain> logger)
    : Grain, ISubjectKeyGrain
{
    private SubjectKeys? cached;
    private DateTimeOffset cachedAt;

    private string SubjectId => this.GetPrimaryKeyString();

    public async Task<SubjectKey?> GetOrCreateKey()
    {
        var keys = await ReadAsync(keys => keys.IsErased || keys.Current is not null);
        if (keys.IsErased)
        {
            return null;
        }

        return keys.Current ?? Cache(await store.CreateAsync(SubjectId)).Current;
    }

    public async Task<byte[]?> FindKey(string keyId)
    {
        var keys = await ReadAsync(keys => keys.IsErased || keys.ById.ContainsKey(keyId));
        if (keys.IsErased)
        {
            return null;
        }

        if (keys.ById.TryGetValue(keyId, out var key))
        {
            return key;
        }

        logger.LogError(
            "Personal data of subject {SubjectId} was sealed with key {KeyId}, but the key table {Table} holds neither that key nor an erasure tombstone: the key table lost rows. Restore them from backup (README \"Personal data\"); they sit beside any key made since.",
            SubjectId, keyId, store.TableName);
        throw new PersonalDataKeyMissingException(
            $"Key '{keyId}' of data subject '{SubjectId}' is missing from the key table, and no erasure is recorded: the key table lost rows and must be restored from backup.");
    }

    public async Task<bool> IsErased() => (await ReadAsync(_ => true)).IsErased;

    public async Task Erase()
    {
        // Forgotten first: an erasure that fails half-way (the tombstone down, a key row still there)
        // must not leave the keys served from here; the next read finds the tombstone.
        cached = null;
        Cache(await store.EraseAsync(SubjectId, time.GetUtcNow()));
        logger.LogInformation("Subject {SubjectId}: keys deleted (personal data erased).", SubjectId);
    }

    /// <summary>The cached keys while fresh and <paramref name="enough"/> for the caller; otherwise read again.</summary>
    private async Task<SubjectKeys> ReadAsync(Func<SubjectKeys, bool> enough)
    {
        if (cached is { } keys && (keys.IsErased || (time.GetUtcNow() - cachedAt < options.Value.KeyCacheDuration && enough(keys))))
        {
            return keys; // a tombstone is final: nothing brings a key back
        }

        return Cache(await store.ReadAsync(SubjectId));
    }

    private SubjectKeys Cache(SubjectKeys keys)
    {
        cached = keys;
        cachedAt = time.GetUtcNow();
        return keys;
    }
}
