using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// How one personal field is stored: <c>pd2.{subject}.{keyId}.{sealed}</c>, the subject id in
/// base64url, the id of the subject's key that sealed it, and the field's JSON value sealed
/// (<see cref="AuthenticatedEncryption"/>: nonce ‖ ciphertext ‖ tag) in base64url, in place of
/// the value. The associated data binds the ciphertext to its subject, key id and field, so it
/// cannot be moved to another subject or field. Values of the build before key ids (<c>pd1.{subject}.{sealed}</c>,
/// sealed with the subject's key <see cref="SubjectKey.LegacyId"/>) still open.
/// <see cref="Erased"/> stands for a field written after its subject's erasure (a snapshot of an
/// order whose customer was erased).
/// </summary>
public static class ProtectedField
{
    public const string Prefix = "pd2.";
    public const string LegacyPrefix = "pd1.";
    public const string Erased = Prefix + "erased";
    private const string LegacyErased = LegacyPrefix + "erased";

    /// <summary>Whether a stored value is a sealed field or the erased marker, of either format (the members to reveal or strip).</summary>
    public static bool IsProtected(string value) =>
        value.StartsWith(Prefix, StringComparison.Ordinal) || value.StartsWith(LegacyPrefix, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="json"/> may hold a protected value at all (a cheap test before parsing).</summary>
    public static bool MayOccurIn(string json) =>
        json.Contains("\"" + Prefix, StringComparison.Ordinal) || json.Contains("\"" + LegacyPrefix, StringComparison.Ordinal);

    public static string Seal(SubjectKey key, string subjectId, string field, string plaintextJson)
    {
        var sealedBytes = AuthenticatedEncryption.Seal(key.Material, Encoding.UTF8.GetBytes(plaintextJson), AssociatedData(subjectId, key.Id, field));
        return Prefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(subjectId)) + "." + key.Id + "." + Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>Whether <paramref name="value"/> is the marker a snapshot writes for a member of an erased subject.</summary>
    public static bool IsErasedMarker(string value) => value is Erased or LegacyErased;

    /// <summary>
    /// The subject a stored value was sealed for and the id of the key that sealed it; false when
    /// the value is not a sealed field (plain data written before encryption, or the erased marker).
    /// </summary>
    public static bool TryReadSealer(string value, out string subjectId, out string keyId)
    {
        (subjectId, keyId) = (string.Empty, string.Empty);
        var parts = value.Split('.');
        var legacy = value.StartsWith(LegacyPrefix, StringComparison.Ordinal);
        if (value is Erased or LegacyErased || !IsProtected(value) || parts.Length != (legacy ? 3 : 4))
        {
            return false;
        }

        try
        {
            subjectId = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        }
        catch (FormatException)
        {
            return false; // damaged
        }

        keyId = legacy ? SubjectKey.LegacyId : parts[2];
        return true;
    }

    /// <exception cref="InvalidDataException">The value was not sealed with this key for this subject and field, or was altered.</exception>
    public static string Open(byte[] key, string value, string field)
    {
        if (!TryReadSealer(value, out var subjectId, out var keyId))
        {
            throw new InvalidDataException($"Field '{field}' does not hold a sealed value.");
        }

        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(value.AsSpan(value.LastIndexOf('.') + 1));
        }
        catch (FormatException damaged)
        {
            throw new InvalidDataException($"Field '{field}' of subject '{subjectId}' is not base64url.", damaged);
        }

        if (AuthenticatedEncryption.IsTruncated(sealedBytes))
        {
            throw new InvalidDataException($"Field '{field}' of subject '{subjectId}' is truncated.");
        }

        try
        {
            return Encoding.UTF8.GetString(AuthenticatedEncryption.Open(key, sealedBytes, AssociatedData(subjectId, keyId, field)));
        }
        catch (AuthenticationTagMismatchException mismatch)
        {
            throw new InvalidDataException($"Field '{field}' of subject '{subjectId}' fails authentication: altered, or sealed for another field or key.", mismatch);
        }
    }

    private static byte[] AssociatedData(string subjectId, string keyId, string field) => Encoding.UTF8.GetBytes(
        keyId == SubjectKey.LegacyId ? "orderflow/pd1\n" + subjectId + "\n" + field : "orderflow/pd2\n" + subjectId + "\n" + keyId + "\n" + field);
}
