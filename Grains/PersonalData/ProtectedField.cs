using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// How one personal field is stored: <c>pd1.{subject}.{sealed}</c>, the subject id and
/// nonce ‖ ciphertext ‖ tag in base64url, in place of the field's JSON value. AES-256-GCM with a
/// random 96-bit nonce; the associated data binds the ciphertext to its subject and field, so it
/// cannot be moved to another subject or field. <see cref="Erased"/> stands for a field written
/// after its subject's erasure (a snapshot of an order whose customer was erased).
/// </summary>
public static class ProtectedField
{
    public const string Prefix = "pd1.";
    public const string Erased = Prefix + "erased";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    public static string Seal(byte[] key, string subjectId, string field, string plaintextJson)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextJson);
        var sealedBytes = new byte[NonceBytes + plaintext.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceBytes, plaintext.Length), sealedBytes.AsSpan(NonceBytes + plaintext.Length), AssociatedData(subjectId, field));
        return Prefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(subjectId)) + "." + Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The subject a stored value was sealed for; false when the value is not a sealed field (plain data written before encryption, or <see cref="Erased"/>).</summary>
    public static bool TryReadSubject(string value, out string subjectId)
    {
        subjectId = string.Empty;
        var parts = value.Split('.');
        if (parts.Length != 3 || value == Erased || !value.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        subjectId = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        return true;
    }

    /// <exception cref="InvalidDataException">The value was not sealed with this key for this subject and field, or was altered.</exception>
    public static string Open(byte[] key, string value, string field)
    {
        if (!TryReadSubject(value, out var subjectId))
        {
            throw new InvalidDataException($"Field '{field}' does not hold a sealed value.");
        }

        var sealedBytes = Base64Url.DecodeFromChars(value.AsSpan(value.LastIndexOf('.') + 1));
        if (sealedBytes.Length < NonceBytes + TagBytes)
        {
            throw new InvalidDataException($"Field '{field}' of subject '{subjectId}' is truncated.");
        }

        var plaintext = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(key, TagBytes);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, plaintext.Length), sealedBytes.AsSpan(NonceBytes + plaintext.Length), plaintext, AssociatedData(subjectId, field));
        }
        catch (AuthenticationTagMismatchException mismatch)
        {
            throw new InvalidDataException($"Field '{field}' of subject '{subjectId}' fails authentication: altered, or sealed for another field or key.", mismatch);
        }

        return Encoding.UTF8.GetString(plaintext);
    }

    private static byte[] AssociatedData(string subjectId, string field) => Encoding.UTF8.GetBytes("orderflow/pd1\n" + subjectId + "\n" + field);
}
