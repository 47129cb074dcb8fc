namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Configuration section <c>PersonalData:KeyEncryptionKey</c>: the key that wraps the subjects'
/// keys in the key table (README "Personal data"). Either a Key Vault secret
/// (<see cref="VaultUri"/> and <see cref="SecretName"/>, read with the silo's managed identity) or,
/// for local runs and tests, base64 keys by version (<see cref="Keys"/>). Neither: subject keys
/// are stored in plain.
/// </summary>
public sealed class KeyEncryptionKeyOptions
{
    public const string Section = PersonalDataOptions.Section + ":KeyEncryptionKey";

    /// <summary>The vault, e.g. <c>https://kv-name.vault.azure.net/</c>.</summary>
    public Uri? VaultUri { get; set; }

    /// <summary>The secret holding the key as base64 (32 bytes); each of its versions is a key version.</summary>
    public string? SecretName { get; set; }

    /// <summary>How long the vault's newest secret version is trusted before it is read again (a rotation is used from then on).</summary>
    public TimeSpan VaultRefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Keys given in configuration, by version name: each base64 of 32 random bytes.</summary>
    public Dictionary<string, string> Keys { get; set; } = [];

    /// <summary>The version of <see cref="Keys"/> that wraps new subject keys; may be left out when there is one.</summary>
    public string? CurrentVersion { get; set; }

    public bool UsesVault => VaultUri is not null || !string.IsNullOrWhiteSpace(SecretName);

    public bool IsConfigured => UsesVault || Keys.Count > 0;

    /// <summary>What is wrong with these settings (empty when nothing); the messages never show a key.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (UsesVault && Keys.Count > 0)
        {
            problems.Add($"{Section}: give either {nameof(VaultUri)} and {nameof(SecretName)} (Key Vault) or {nameof(Keys)} (configuration), not both.");
        }

        if (UsesVault && (VaultUri is not { IsAbsoluteUri: true, Scheme: "https" } || string.IsNullOrWhiteSpace(SecretName)))
        {
            problems.Add($"{Section}: a Key Vault needs both {nameof(VaultUri)} (https://<vault>.vault.azure.net/) and {nameof(SecretName)}.");
        }

        if (UsesVault && VaultRefreshInterval <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(VaultRefreshInterval)} is {VaultRefreshInterval}; it must be positive.");
        }

        foreach (var (version, value) in Keys)
        {
            if (version.Contains('\n', StringComparison.Ordinal) || KeyEncryptionKey.DecodeOrNull(value) is null)
            {
                problems.Add($"{Section}:{nameof(Keys)}:{version} must be base64 of {KeyEncryptionKey.KeyBytes} bytes (openssl rand -base64 32).");
            }
        }

        if (Keys.Count > 0 && (CurrentVersion is null ? Keys.Count > 1 : !Keys.ContainsKey(CurrentVersion)))
        {
            problems.Add($"{Section}:{nameof(CurrentVersion)} must name one of the versions of {nameof(Keys)} ({string.Join(", ", Keys.Keys)}).");
        }

        return problems;
    }
}
