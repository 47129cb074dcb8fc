using System.Security.Cryptography;
using System.Text;

namespace OrderFlow.Api.Auth;

/// <summary>
/// The configured API keys, held as SHA-256 hashes so that a lookup does not compare secrets
/// character by character.
/// </summary>
public sealed class ApiKeyRegistry
{
    private readonly Dictionary<string, (string Role, string Name)> byHash = new(StringComparer.Ordinal);

    public ApiKeyRegistry(ApiKeyOptions options)
    {
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var entry = options.Keys[i];
            if (string.IsNullOrWhiteSpace(entry.Key))
            {
                throw new InvalidOperationException($"Api:Keys:{i}:Key is empty. Every configured API key needs a secret value.");
            }

            if (entry.Role is null || !ApiRoles.All.Contains(entry.Role))
            {
                throw new InvalidOperationException(
                    $"Api:Keys:{i}:Role is '{entry.Role}'. It must be one of: {string.Join(", ", ApiRoles.All)}.");
            }

            var hash = Hash(entry.Key);
            if (!byHash.TryAdd(hash, (entry.Role, $"key-{hash[..8].ToLowerInvariant()}")))
            {
                throw new InvalidOperationException($"Api:Keys:{i}:Key repeats an earlier key.");
            }
        }
    }

    public bool IsEmpty => byHash.Count == 0;

    /// <summary>Finds the role of <paramref name="key"/>; the name identifies the key in logs without revealing it.</summary>
    public bool TryFind(string key, out string role, out string name)
    {
        if (byHash.TryGetValue(Hash(key), out var found))
        {
            (role, name) = found;
            return true;
        }

        role = name = string.Empty;
        return false;
    }

    private static string Hash(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
