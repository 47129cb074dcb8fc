using System.Buffers.Text;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OrderFlow.Grains.PersonalData;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// What an idempotency record keeps of its request, so that a key reused with another request is
/// recognised. A request without personal data: the SHA-256 of its JSON. A request carrying
/// personal data (<see cref="OrderFlow.PersonalData.PersonalDataAttribute"/> members):
/// <c>hmac1.{subject}.{keyId}.{mac}.{rest}</c>, an HMAC-SHA256 of the whole request under a key
/// derived from the subject's key <c>keyId</c>, which the subject's erasure shreds with the key,
/// and the SHA-256 of the request with its personal members left out (no trace of them, so it
/// outlives the erasure harmlessly). While the key exists a retry must match the whole request;
/// after the erasure only the rest can be compared, and a retry matching it is answered as the
/// replay it is (its personal data reads as erased).
/// The request is named by its type's <see cref="AliasAttribute"/>, its wire name, which stays when
/// the class is renamed; hashes stored by builds that named it by its class name still match.
/// </summary>
public static class RequestHash
{
    private const string KeyedPrefix = "hmac1.";
    private static readonly byte[] DerivationInfo = "orderflow/idempotency-request-hash"u8.ToArray();

    /// <summary>The hash to store for <paramref name="request"/>, whose personal data (if any) belongs to <paramref name="subjectId"/>.</summary>
    /// <exception cref="PersonalDataErasedException">The request carries personal data of an erased subject.</exception>
    public static async Task<string> OfAsync(object request, string subjectId, PersonalDataProtector personalData)
    {
        var (json, rest) = Serialize(request, NameOf(request.GetType()));
        if (rest is null)
        {
            return Sha256(json);
        }

        var key = await personalData.CurrentKeyAsync(subjectId) ?? throw new PersonalDataErasedException(subjectId);
        return KeyedPrefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(subjectId)) + "." + key.Id + "." + Mac(key.Material, json) + "." + Sha256(rest);
    }

    /// <summary>
    /// Whether <paramref name="stored"/> was stored for this request: for <paramref name="request"/>
    /// (as <see cref="OfAsync"/> hashes it) or, when the hash is unkeyed, for <paramref name="asStoredBefore"/>
    /// (the request whole, as builds before the keyed hash hashed every request).
    /// </summary>
    /// <exception cref="OrderFlow.PersonalData.PersonalDataKeyMissingException">The key that keyed the hash is missing and no erasure is recorded.</exception>
    public static async Task<bool> MatchesAsync(string stored, object request, object asStoredBefore, PersonalDataProtector personalData)
    {
        // Named as this build names it, or as builds before the alias named it (by class name; the same for a type without alias).
        var name = NameOf(request.GetType());
        var forms = name == request.GetType().Name
            ? new[] { Serialize(request, name) }
            : [Serialize(request, name), Serialize(request, request.GetType().Name)];
        if (!stored.StartsWith(KeyedPrefix, StringComparison.Ordinal))
        {
            var whole = Serialize(asStoredBefore, asStoredBefore.GetType().Name).Json;
            return forms.Any(form => stored == Sha256(form.Json)) || stored == Sha256(whole);
        }

        var parts = stored.Split('.');
        if (parts.Length != 5 || forms[0].WithoutPersonalData is null)
        {
            return false; // a keyed hash is only stored for a request carrying personal data
        }

        var key = await personalData.FindKeyAsync(Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])), parts[2]);
        return key is null
            ? forms.Any(form => parts[4] == Sha256(form.WithoutPersonalData!))
            : forms.Any(form => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(parts[3]), Encoding.ASCII.GetBytes(Mac(key, form.Json))));
    }

    /// <summary>
    /// The name a request is hashed under: its type's own wire alias (not one inherited: a derived
    /// command is another request), else its class name.
    /// </summary>
    private static string NameOf(Type type) => type.GetCustomAttribute<AliasAttribute>(inherit: false)?.Alias ?? type.Name;

    /// <summary>The request's JSON under <paramref name="name"/>, and (when it carries personal data) the same without its personal members.</summary>
    private static (string Json, string? WithoutPersonalData) Serialize(object request, string name)
    {
        var type = request.GetType();
        var json = name + "\n" + JsonSerializer.Serialize(request, type, StoredJson.Options);
        var fields = PersonalDataFields.Of(type, StoredJson.Options);
        if (fields.Count == 0)
        {
            return (json, null);
        }

        var root = JsonSerializer.SerializeToNode(request, type, StoredJson.Options)!.AsObject();
        if (!fields.Any(field => root[field] is not null))
        {
            return (json, null);
        }

        foreach (var field in fields)
        {
            root.Remove(field);
        }

        return (json, name + "\n" + root.ToJsonString(StoredJson.Options));
    }

    private static string Sha256(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Mac(byte[] subjectKey, string json) =>
        Convert.ToHexString(HMACSHA256.HashData(HKDF.DeriveKey(HashAlgorithmName.SHA256, subjectKey, 32, info: DerivationInfo), Encoding.UTF8.GetBytes(json)));
}
