using System.Collections.Concurrent;
using System.Net;
using Azure;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.PersonalData;
using OrderFlow.Storage;

namespace OrderFlow.Silo;

/// <summary>
/// The key-encryption key as a Key Vault secret (README "Personal data"): each version of the
/// secret is a key version, its value base64 of 32 bytes. The newest version wraps new subject
/// keys, read again every <see cref="KeyEncryptionKeyOptions.VaultRefreshInterval"/> so that a
/// rotation (a new version) takes over; a version once read is kept (versions never change).
/// A thin adapter over <see cref="SecretClient"/>; of its failures only a vault that cannot be
/// reached is tested (no vault is reachable here).
/// </summary>
public sealed class KeyVaultKeyEncryptionKeys(SecretClient secrets, string secretName, TimeSpan refreshInterval, TimeProvider time) : IKeyEncryptionKeys
{
    /// <summary>How long a version the vault did not have is not asked for again: rows naming it fail without a call each.</summary>
    public static readonly TimeSpan MissingVersionMemory = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, KeyEncryptionKey> versions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> missing = new(StringComparer.Ordinal);
    private CurrentVersion? current;

    public string Source => $"Key Vault secret {new Uri(secrets.VaultUri, "secrets/" + secretName)}";

    public async Task<KeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken)
    {
        if (current is { } known && time.GetUtcNow() - known.ReadAt < refreshInterval)
        {
            return known.Key;
        }

        var newest = await ReadAsync(version: null, cancellationToken)
            ?? throw new PersonalDataKeyUnreadableException($"{Source} does not exist: create it (README \"Operate it in Azure\"); no subject key can be stored until then.");
        current = new CurrentVersion(newest, time.GetUtcNow());
        return newest;
    }

    public async Task<KeyEncryptionKey?> FindAsync(string version, CancellationToken cancellationToken)
    {
        if (versions.TryGetValue(version, out var known))
        {
            return known;
        }

        if (missing.TryGetValue(version, out var missedAt) && time.GetUtcNow() - missedAt < MissingVersionMemory)
        {
            return null;
        }

        var read = await ReadAsync(version, cancellationToken);
        if (read is null)
        {
            missing[version] = time.GetUtcNow();
        }

        return read;
    }

    private async Task<KeyEncryptionKey?> ReadAsync(string? version, CancellationToken cancellationToken)
    {
        KeyVaultSecret secret;
        try
        {
            secret = (await secrets.GetSecretAsync(secretName, version, cancellationToken)).Value;
        }
        catch (RequestFailedException missing) when (missing.Status is (int)HttpStatusCode.NotFound or (int)HttpStatusCode.BadRequest)
        {
            return null;
        }
        catch (RequestFailedException refused) when (refused.Status is (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden)
        {
            // Also a disabled version. Throttling and outages are not caught: they read as storage unavailable (503).
            throw new PersonalDataKeyUnreadableException(
                $"{Source} (version '{version ?? "newest"}') refused the silo ({refused.Status} {refused.ErrorCode}): the version is disabled, or the silo's identity lacks the role Key Vault Secrets User.", refused);
        }
        catch (AuthenticationFailedException noToken)
        {
            // The identity endpoint not answering yet (a replica starting) is an outage to retry, like a vault that does not answer.
            throw new StorageUnavailableException($"{Source} could not be read: no token for the silo's identity ({noToken.Message}).", noToken);
        }
        catch (Exception outage) when (!cancellationToken.IsCancellationRequested && IsOutage(outage))
        {
            // Named here: the key table's error translation, around this read, would report it as the key table's.
            throw new StorageUnavailableException($"{Source} could not be reached: {outage.Message}", outage);
        }

        var key = KeyEncryptionKey.DecodeOrNull(secret.Value) is { } bytes
            ? bytes
            : throw new PersonalDataKeyUnreadableException($"{Source} version '{secret.Properties.Version}' is not base64 of {KeyEncryptionKey.KeyBytes} bytes.");
        var read = new KeyEncryptionKey(secret.Properties.Version, key);
        versions[read.Version] = read;
        return read;
    }

    /// <summary>Throttling, a server-side failure, no answer or no connection: the same rule as for storage (<see cref="StorageStatus"/>).</summary>
    private static bool IsOutage(Exception exception) => exception switch
    {
        RequestFailedException failed => StorageStatus.MeansUnavailable(failed.Status),
        HttpRequestException or IOException or TimeoutException => true,
        _ => false,
    };

    private sealed record CurrentVersion(KeyEncryptionKey Key, DateTimeOffset ReadAt);
}
