namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Where the key-encryption key comes from (<see cref="KeyEncryptionKeyOptions"/>): configuration
/// (<see cref="ConfiguredKeyEncryptionKeys"/>) or a Key Vault secret (the silo's adapter). New
/// subject keys are wrapped with the current version; a stored key is unwrapped with the version
/// it records, so rotating to a new version keeps older rows readable.
/// </summary>
public interface IKeyEncryptionKeys
{
    /// <summary>Where the keys come from, for log lines and errors (never a key).</summary>
    string Source { get; }

    /// <summary>The version new subject keys are wrapped with.</summary>
    Task<KeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken);

    /// <summary>The key of <paramref name="version"/>, or null when this source has no such version.</summary>
    Task<KeyEncryptionKey?> FindAsync(string version, CancellationToken cancellationToken);
}
