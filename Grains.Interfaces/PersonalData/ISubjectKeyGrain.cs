namespace OrderFlow.PersonalData;

/// <summary>
/// The encryption keys of one data subject (a customer: the grain key is the customer id). Every
/// read and write of the subject's personal data asks this grain, and an erasure goes through it,
/// so the one activation's cache is the only cache of the keys: an erasure is seen by every later
/// read on every silo.
/// </summary>
[Alias("orderflow.subject-key-grain")]
public interface ISubjectKeyGrain : IGrainWithStringKey
{
    /// <summary>The key new personal data is sealed with, created on first use; null once the subject was erased (no new key is ever made for them).</summary>
    /// <exception cref="Storage.StorageUnavailableException">The key table could not be reached.</exception>
    [Alias("get-or-create")]
    Task<SubjectKey?> GetOrCreateKey();

    /// <summary>The subject's key <paramref name="keyId"/> (<see cref="SubjectKey.LegacyId"/> for values sealed before key ids), or null once the subject was erased.</summary>
    /// <exception cref="PersonalDataKeyMissingException">Neither that key nor an erasure is recorded: the key table lost it.</exception>
    /// <exception cref="Storage.StorageUnavailableException">The key table could not be reached.</exception>
    [Alias("find-by-id")]
    Task<byte[]?> FindKey(string keyId);

    /// <summary>Whether the subject was erased (a tombstone is stored); false also when no row is stored at all.</summary>
    /// <exception cref="Storage.StorageUnavailableException">The key table could not be reached.</exception>
    [Alias("is-erased")]
    Task<bool> IsErased();

    /// <summary>Deletes every key of the subject, leaving a tombstone (erasure, GDPR article 17). Idempotent; also for a subject that never had a key.</summary>
    /// <exception cref="Storage.StorageUnavailableException">The key table could not be reached: the erasure may be partial (the tombstone makes it final once written), retry it.</exception>
    [Alias("erase")]
    Task Erase();
}
