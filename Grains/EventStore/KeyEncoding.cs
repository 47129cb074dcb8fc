using System.Globalization;
using System.Text;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Maps ids to PartitionKey and RowKey values. Table keys may not contain '/', '\', '#', '?' or
/// control characters, and keys made of or ending in dots are mangled by URL normalisation in
/// point operations; so every character outside [A-Za-z0-9_-] is written as '~' plus the hex of
/// its UTF-8 bytes. The mapping is reversible and keeps common ids readable ("order-42" stays as is).
/// </summary>
public static class KeyEncoding
{
    /// <summary>Event rows: the version, zero-padded so that a range scan reads events in order.</summary>
    public const int VersionDigits = 10;

    /// <summary>Snapshot rows sort after every event row ('s' &gt; '9') and newest first (inverted version).</summary>
    public const string SnapshotPrefix = "snapshot-";

    /// <summary>
    /// Idempotency rows: one per idempotency key that a command was applied with, keyed by the
    /// key's SHA-256 so that any key the API accepts fits a RowKey whatever its characters.
    /// </summary>
    public const string IdempotencyPrefix = "idempotency-";

    /// <summary>Event RowKeys are all digits: "0…" to "9…" sort before ':'.</summary>
    public const string EventRowKeyUpperBound = ":";

    public static string Encode(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var builder = new StringBuilder(id.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in id.EnumerateRunes())
        {
            if (rune.IsAscii && IsKeptAsIs((char)rune.Value))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            var length = rune.EncodeToUtf8(utf8);
            foreach (var b in utf8[..length])
            {
                builder.Append('~').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        var key = builder.ToString();
        if (key.Length > TableLimits.MaxKeyChars - IdempotencyPrefix.Length)
        {
            throw new ArgumentException($"The id is too long to be a table key once encoded ({key.Length} characters).", nameof(id));
        }

        return key;
    }

    public static string Decode(string key)
    {
        var bytes = new List<byte>(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '~')
            {
                bytes.Add(byte.Parse(key.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.Add((byte)key[i]);
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public static string EventRowKey(int version) =>
        version.ToString(new string('0', VersionDigits), CultureInfo.InvariantCulture);

    public static int VersionOf(string eventRowKey) => int.Parse(eventRowKey, CultureInfo.InvariantCulture);

    public static string SnapshotRowKey(int version) =>
        SnapshotPrefix + (int.MaxValue - version).ToString(new string('0', VersionDigits), CultureInfo.InvariantCulture);

    public static string IdempotencyRowKey(string idempotencyKey) =>
        IdempotencyPrefix + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)));

    private static bool IsKeptAsIs(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
