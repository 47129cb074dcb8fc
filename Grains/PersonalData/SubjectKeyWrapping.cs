using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// How a subject's key is written into its key-table row and read back (envelope encryption).
/// With a key-encryption key (<see cref="IKeyEncryptionKeys"/>), the row holds the subject key
/// wrapped: sealed under the current key-encryption key (<see cref="AuthenticatedEncryption"/>), with the
/// version it was wrapped with beside it; the associated data binds the version, the row (its
/// row key names the subject key's id) and the subject id, so a wrapped key copied to another
/// subject's or key's row, or relabelled with another version, fails to open. Without one, the key is stored in plain (as before envelope
/// encryption). Rows of either kind read back, whatever is configured now: a plain row written
/// before a key-encryption key was configured stays readable.
/// </summary>
/// <remarks>
/// A wrapped key that cannot be opened (no key-encryption key configured, its version unknown,
/// or the wrong key under that version) fails loudly with <see cref="PersonalDataKeyUnreadableException"/>
/// and a critical log line: reading it as erased would hide the data for good, and reading it as
/// missing would make the subject's next write replace the key.
/// </remarks>
public sealed class SubjectKeyWrapping(IKeyEncryptionKeys? keyEncryptionKeys, ILogger<SubjectKeyWrapping> logger)
{
    private const string PlainKeyProperty = "Key";
    private const string WrappedKeyProperty = "WrappedKey";
    private const string VersionProperty = "KeyEncryptionKeyVersion";

    /// <summary>Where the key-encryption key comes from; null without one (keys in plain).</summary>
    public string? KeyEncryptionKeySource => keyEncryptionKeys?.Source;

    /// <summary>Reads the key-encryption key's current version (a check at start); null without one.</summary>
    public async Task<string?> ReadCurrentKeyEncryptionKeyVersionAsync(CancellationToken cancellationToken) =>
        keyEncryptionKeys is null ? null : (await keyEncryptionKeys.GetCurrentAsync(cancellationToken)).Version;

    /// <summary>Puts <paramref name="key"/> into <paramref name="row"/> (whose keys are set): wrapped under the current key-encryption key, or in plain without one.</summary>
    public async Task WriteAsync(TableEntity row, string subjectId, byte[] key, CancellationToken cancellationToken)
    {
        if (keyEncryptionKeys is null)
        {
            row[PlainKeyProperty] = key;
            return;
        }

        var current = await keyEncryptionKeys.GetCurrentAsync(cancellationToken);
        row[WrappedKeyProperty] = AuthenticatedEncryption.Seal(current.Key, key, AssociatedData(current.Version, row.RowKey, subjectId));
        row[VersionProperty] = current.Version;
    }

    /// <summary>The subject key <paramref name="row"/> holds (wrapped or plain), or null when it holds none (a tombstone).</summary>
    /// <exception cref="PersonalDataKeyUnreadableException">The row holds a wrapped key that no configured key-encryption key opens.</exception>
    public async Task<byte[]?> ReadAsync(TableEntity row, string subjectId, CancellationToken cancellationToken)
    {
        if (row.GetBinary(WrappedKeyProperty) is not { } wrapped)
        {
            return row.GetBinary(PlainKeyProperty);
        }

        var version = row.GetString(VersionProperty) ?? "";
        if (keyEncryptionKeys is null)
        {
            throw Unreadable(subjectId, version, "no key-encryption key is configured (PersonalData:KeyEncryptionKey)");
        }

        if (await keyEncryptionKeys.FindAsync(version, cancellationToken) is not { } keyEncryptionKey)
        {
            throw Unreadable(subjectId, version, $"{keyEncryptionKeys.Source} has no version '{version}'");
        }

        // Nothing wrapped at all is truncated too: a subject key is never empty.
        if (wrapped.Length <= AuthenticatedEncryption.Overhead)
        {
            throw Unreadable(subjectId, version, "the wrapped key is truncated");
        }

        try
        {
            return AuthenticatedEncryption.Open(keyEncryptionKey.Key, wrapped, AssociatedData(version, row.RowKey, subjectId));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Unreadable(subjectId, version, $"the key of version '{version}' from {keyEncryptionKeys.Source} does not open it (another key under that version, or a row altered or copied from another subject)");
        }
    }

    private PersonalDataKeyUnreadableException Unreadable(string subjectId, string version, string reason)
    {
        logger.LogCritical(
            "The key of data subject {SubjectId} is stored wrapped with key-encryption key version {KeyEncryptionKeyVersion}, but {Reason}. Their personal data cannot be read or written until that key-encryption key is configured again (README \"Personal data\"); this is not an erasure.",
            subjectId, version, reason);
        return new PersonalDataKeyUnreadableException(
            $"The key of data subject '{subjectId}' is wrapped with key-encryption key version '{version}', but {reason}. This is not an erasure: configure that key-encryption key again.");
    }

    // The subject last: neither the version (KeyEncryptionKeyOptions refuses one, Key Vault versions are hex) nor a row key holds a line break, so the split is unambiguous.
    private static byte[] AssociatedData(string version, string rowKey, string subjectId) =>
        Encoding.UTF8.GetBytes("orderflow/subject-key\n" + version + "\n" + rowKey + "\n" + subjectId);
}
