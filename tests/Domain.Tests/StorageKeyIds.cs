using CsCheck;

namespace OrderFlow.Testing.Keys;

/// <summary>
/// Arbitrary strings for storage-key properties: any UTF-16 code unit, control characters, lone
/// surrogates and surrogate pairs, the characters tables refuse or mangle in keys, dots, the escape
/// character itself, and ids too long for a key. Shared (linked) by Domain.Tests and Statistics.Tests.
/// </summary>
public static class StorageKeyIds
{
    private const string Readable = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

    private static readonly Gen<string> Fragment = Gen.OneOf(
        Gen.Char.Select(c => c.ToString()),
        Gen.Char['\0', '\u001F'].Select(c => c.ToString()),
        Gen.Char['\uD800', '\uDFFF'].Select(c => c.ToString()),
        Gen.Int[0x10000, 0x10FFFF].Select(char.ConvertFromUtf32),
        Gen.OneOfConst("/", "\\", "#", "?", "%", ".", "..", "~", "~2E", "~7E", " ", "\n", "\r\n", "\u007F", "\u0085", "\u2028", "é", "€", "'", "\""),
        Gen.Char[Readable].Array[1, 12].Select(chars => new string(chars)));

    /// <summary>Mostly short mixtures of fragments; sometimes hundreds of characters, longer than a key can be.</summary>
    public static readonly Gen<string> Any = Gen.Frequency(
        (8, Fragment.Array[1, 16].Select(string.Concat)),
        (1, Gen.OneOfConst(".", "..", "...", "/", "\\", "#", "?", "%", "~", "\n", "\uD800", "\uDC00", "\uD800\uDC00")),
        (1, Gen.Char[Readable].Array[100, 700].Select(chars => new string(chars))),
        (1, Fragment.Array[60, 200].Select(string.Concat)));
}
