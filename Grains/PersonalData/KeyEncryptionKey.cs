namespace OrderFlow.Grains.PersonalData;

/// <summary>One version of the key-encryption key (256 bits) that wraps the subjects' keys in the key table.</summary>
public sealed record KeyEncryptionKey(string Version, byte[] Key)
{
    public const int KeyBytes = 32;

    /// <summary>The key that <paramref name="base64"/> spells (as <c>openssl rand -base64 32</c> writes it), or null when it is not base64 of <see cref="KeyBytes"/> bytes.</summary>
    public static byte[]? DecodeOrNull(string? base64)
    {
        try
        {
            return base64 is not null && Convert.FromBase64String(base64.Trim()) is { Length: KeyBytes } key ? key : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
