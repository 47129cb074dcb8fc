using System.Security.Cryptography;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// The one layout of what personal data seals (a field, <see cref="ProtectedField"/>; a subject
/// key wrapped under a key-encryption key, <see cref="SubjectKeyWrapping"/>): AES-256-GCM with a
/// random 96-bit nonce and a 128-bit tag, stored as nonce ‖ ciphertext ‖ tag. Each caller binds
/// its own associated data and says in its own words what a value that does not open means.
/// </summary>
public static class AuthenticatedEncryption
{
    public const int NonceBytes = 12;
    public const int TagBytes = 16;

    /// <summary>What sealing adds to the plaintext: the nonce and the tag.</summary>
    public const int Overhead = NonceBytes + TagBytes;

    /// <summary>Nonce ‖ ciphertext ‖ tag of <paramref name="plaintext"/> under <paramref name="key"/>, bound to <paramref name="associatedData"/>.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var sealedBytes = new byte[plaintext.Length + Overhead];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceBytes, plaintext.Length), sealedBytes.AsSpan(NonceBytes + plaintext.Length), associatedData);
        return sealedBytes;
    }

    /// <summary>Whether <paramref name="sealedBytes"/> is too short to hold a nonce and a tag (callers that name truncation ask first).</summary>
    public static bool IsTruncated(ReadOnlySpan<byte> sealedBytes) => sealedBytes.Length < Overhead;

    /// <summary>The plaintext <paramref name="sealedBytes"/> (from <see cref="Seal"/>) holds.</summary>
    /// <exception cref="AuthenticationTagMismatchException">
    /// Not sealed with this key and associated data, altered, or truncated (<see cref="IsTruncated"/>).
    /// </exception>
    public static byte[] Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associatedData)
    {
        if (IsTruncated(sealedBytes))
        {
            throw new AuthenticationTagMismatchException("The sealed value is too short to hold a nonce and a tag.");
        }

        var plaintext = new byte[sealedBytes.Length - Overhead];
        using var aes = new AesGcm(key, TagBytes);
        aes.Decrypt(sealedBytes[..NonceBytes], sealedBytes.Slice(NonceBytes, plaintext.Length), sealedBytes[(NonceBytes + plaintext.Length)..], plaintext, associatedData);
        return plaintext;
    }
}
