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

    /// <summary>
    /// Unique-key rows (<see cref="UniqueKeyRecord"/>): the kind and the key's SHA-256. They sort after
    /// the snapshot rows ('u' &gt; 's'), outside every range a load or a scan reads.
    /// </summary>
    public const string UniqueKeyPrefix = "unique-";

    /// <summary>Event RowKeys are all digits: "0…" to "9…" sort before ':'.</summary>
    public const string EventRowKeyUpperBound = ":";

    /// <summary>
    /// The key of <paramref name="id"/>, for any string: a lone surrogate (which UTF-8 cannot
    /// carry) is written as the three bytes generalized UTF-8 (WTF-8) gives it, so that no two ids
    /// share a key; every other character as its UTF-8 bytes, so existing keys are unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">The id is empty, or too long to be a table key once encoded.</exception>
    public static string Encode(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var key = EncodeAnyLength(id);
        if (key.Length > MaxEncodedLength)
        {
            throw new ArgumentException($"The id is too long to be a table key once encoded ({key.Length} characters).", nameof(id));
        }

        return key;
    }

    private static string EncodeAnyLength(string id)
    {
        var builder = new StringBuilder(id.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (char.IsAscii(c) && IsKeptAsIs(c))
            {
                builder.Append(c);
                continue;
            }

            int length;
            if (char.IsHighSurrogate(c) && i + 1 < id.Length && char.IsLowSurrogate(id[i + 1]))
            {
                length = new Rune(c, id[++i]).EncodeToUtf8(utf8);
            }
            else if (char.IsSurrogate(c))
            {
                utf8[0] = (byte)(0xE0 | (c >> 12));
                utf8[1] = (byte)(0x80 | ((c >> 6) & 0x3F));
                utf8[2] = (byte)(0x80 | (c & 0x3F));
                length = 3;
            }
            else
            {
                length = new Rune(c).EncodeToUtf8(utf8);
            }

            foreach (var b in utf8[..length])
            {
                builder.Append('~').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// The key of <paramref name="id"/> in at most <paramref name="maxLength"/> characters, for a key
    /// that is part of a longer one (a grain key that becomes a PartitionKey after a prefix): as
    /// <see cref="Encode"/> when that fits, else <see cref="HashedPrefix"/> and the SHA-256 of the
    /// id's UTF-16 code units, which is legal, distinct from every encoded id, and not decodable
    /// (<see cref="TryDecode"/> returns null for it).
    /// </summary>
    public static string EncodeWithin(string id, int maxLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, HashedPrefix.Length + 64);
        var key = EncodeAnyLength(id);
        return key.Length <= maxLength
            ? key
            : HashedPrefix + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(id.AsSpan())));
    }

    /// <summary>Starts the key of an id too long to be encoded in full ('~' is otherwise always followed by two hex digits).</summary>
    public const string HashedPrefix = "~~";

    /// <summary>The id of <paramref name="key"/>, or null when the key holds a hash of it (see <see cref="EncodeWithin"/>).</summary>
    public static string? TryDecode(string key) => key.StartsWith(HashedPrefix, StringComparison.Ordinal) ? null : Decode(key);

    /// <summary>The longest key <see cref="Encode"/> makes: room is left for the prefixes and suffixes keys are built with.</summary>
    public static readonly int MaxEncodedLength = TableLimits.MaxKeyChars - IdempotencyPrefix.Length;

    /// <summary>The id <paramref name="key"/> was made from by <see cref="Encode"/>.</summary>
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

        // Generalized UTF-8: what Encode wrote, lone surrogates included (Encoding.UTF8 would replace them).
        var id = new StringBuilder(bytes.Count);
        for (var i = 0; i < bytes.Count;)
        {
            var lead = bytes[i];
            var length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            var codePoint = length switch { 1 => lead, 2 => lead & 0x1F, 3 => lead & 0x0F, _ => lead & 0x07 };
            for (var j = 1; j < length; j++)
            {
                codePoint = (codePoint << 6) | (bytes[i + j] & 0x3F);
            }

            if (codePoint is >= 0xD800 and <= 0xDFFF)
            {
                id.Append((char)codePoint);
            }
            else
            {
                id.Append(new Rune(codePoint).ToString());
            }

            i += length;
        }

        return id.ToString();
    }

    /// <summary>Change-index rows: the encoded stream id and the version it changes from ('.' never occurs in an encoded id).</summary>
    public static string ChangeRowKey(string streamId, int fromVersion) => Encode(streamId) + "." + EventRowKey(fromVersion);

    /// <summary>
    /// Change-index rows of a stream of <paramref name="category"/>: as <see cref="ChangeRowKey(string, int)"/>
    /// for orders (whose rows predate categories), else after the category and a '.', so that an order
    /// and a customer of the same id announced in one partition keep a row each.
    /// </summary>
    public static string ChangeRowKey(string category, string streamId, int fromVersion) =>
        category == StreamCategories.Order ? ChangeRowKey(streamId, fromVersion) : category + "." + ChangeRowKey(streamId, fromVersion);

    /// <summary>
    /// The change a change-index RowKey names (<see cref="ChangeRowKey(string, string, int)"/>):
    /// false for a key of another shape, or whose stream id is a hash (<see cref="EncodeWithin"/>) or does not decode.
    /// </summary>
    public static bool TryParseChangeRowKey(string rowKey, out string category, out string streamId, out int fromVersion)
    {
        (category, streamId, fromVersion) = (StreamCategories.Order, "", 0);
        var parts = rowKey.Split('.');
        if (parts.Length is not (2 or 3)
            || parts[^1].Length != VersionDigits
            || !int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out fromVersion) || fromVersion < 1
            || parts[^2].Length == 0 || parts[^2].StartsWith(HashedPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        if (parts.Length == 3)
        {
            if (parts[0].Length == 0 || !parts[0].All(char.IsAsciiLetterLower))
            {
                return false;
            }

            category = parts[0];
        }

        try
        {
            // Encoded again, it must be the same key (and one Encode makes: not too long).
            streamId = Decode(parts[^2]);
            return Encode(streamId) == parts[^2];
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    public static string EventRowKey(int version) =>
        version.ToString(new string('0', VersionDigits), CultureInfo.InvariantCulture);

    public static int VersionOf(string eventRowKey) => int.Parse(eventRowKey, CultureInfo.InvariantCulture);

    public static string SnapshotRowKey(int version) =>
        SnapshotPrefix + (int.MaxValue - version).ToString(new string('0', VersionDigits), CultureInfo.InvariantCulture);

    public static string IdempotencyRowKey(string idempotencyKey) =>
        IdempotencyPrefix + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)));

    public static string UniqueKeyRowKey(string kind, string key) =>
        UniqueKeyPrefix + kind + "-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static bool IsKeptAsIs(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
