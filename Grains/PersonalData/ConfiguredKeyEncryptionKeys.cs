namespace OrderFlow.Grains.PersonalData;

/// <summary>Key-encryption keys given in configuration (<see cref="KeyEncryptionKeyOptions.Keys"/>): local runs and tests.</summary>
public sealed class ConfiguredKeyEncryptionKeys : IKeyEncryptionKeys
{
    private readonly Dictionary<string, KeyEncryptionKey> keys;
    private readonly KeyEncryptionKey current;

    /// <exception cref="ArgumentException">The options have <see cref="KeyEncryptionKeyOptions.Problems"/>, or no keys.</exception>
    public ConfiguredKeyEncryptionKeys(KeyEncryptionKeyOptions options)
    {
        if (options.Keys.Count == 0 || options.Problems() is { Count: > 0 })
        {
            throw new ArgumentException(string.Join(" ", options.Problems().DefaultIfEmpty($"{KeyEncryptionKeyOptions.Section}:Keys is empty.")), nameof(options));
        }

        keys = options.Keys.ToDictionary(
            pair => pair.Key, pair => new KeyEncryptionKey(pair.Key, KeyEncryptionKey.DecodeOrNull(pair.Value)!), StringComparer.Ordinal);
        current = keys[options.CurrentVersion ?? options.Keys.Keys.Single()];
    }

    public string Source => $"configuration {KeyEncryptionKeyOptions.Section}:Keys";

    public Task<KeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken) => Task.FromResult(current);

    public Task<KeyEncryptionKey?> FindAsync(string version, CancellationToken cancellationToken) => Task.FromResult(keys.GetValueOrDefault(version));
}
