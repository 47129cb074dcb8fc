using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.Grains.EventStore;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Encrypts the <see cref="PersonalDataAttribute"/> members of a serialized event or snapshot with
/// the data subject's key before it is stored (<see cref="ProtectedField"/>), and decrypts them for
/// the reads that show them. A subject whose key was erased reads as erased: the field is null.
/// Readers that never show personal data (projections, rebuilds, stream envelopes) deserialize
/// with the fields stripped (<see cref="Strip"/>) and need no key.
/// </summary>
public sealed class PersonalDataProtector(IGrainFactory grains)
{
    /// <summary>
    /// <paramref name="json"/> (a <paramref name="type"/> serialized with <paramref name="options"/>)
    /// with every non-null personal member sealed under <paramref name="subjectId"/>'s key, created
    /// on first use. A type without personal members, or with all of them null, costs no key lookup.
    /// </summary>
    /// <param name="ifErased">What to write when the subject was erased: refuse (new personal data), or the erased marker (a snapshot re-stating old data).</param>
    /// <exception cref="PersonalDataErasedException">The subject was erased and <paramref name="ifErased"/> refuses.</exception>
    /// <exception cref="Storage.StorageUnavailableException">The key table could not be reached: nothing may be stored.</exception>
    public async Task<string> ProtectAsync(string json, Type type, JsonSerializerOptions options, string subjectId, WhenErased ifErased)
    {
        var fields = PersonalDataFields.Of(type, options);
        if (fields.Count == 0 || !AnyPresent(json, fields))
        {
            return json;
        }

        var root = JsonNode.Parse(json)!.AsObject();
        var present = fields.Where(field => root[field] is not null).ToList();
        if (present.Count == 0)
        {
            return json;
        }

        var key = await CurrentKeyAsync(subjectId);
        if (key is null && ifErased == WhenErased.Refuse)
        {
            throw new PersonalDataErasedException(subjectId);
        }

        foreach (var field in present)
        {
            root[field] = key is null ? ProtectedField.Erased : ProtectedField.Seal(key, subjectId, field, root[field]!.ToJsonString());
        }

        return root.ToJsonString();
    }

    /// <summary><paramref name="json"/> with its sealed personal members decrypted, or set to null where the subject was erased.</summary>
    /// <param name="keys">Keys already fetched, by subject and key id (null: erased); filled in as keys are fetched.</param>
    /// <param name="subjectOfPlainData">
    /// The subject of personal members stored in plain (by builds before encryption): set to null too
    /// once that subject is erased. Null: plain members are left as they are.
    /// </param>
    /// <exception cref="PersonalDataKeyMissingException">A value's key is missing and its subject has no tombstone.</exception>
    public async Task<RevealedJson> RevealAsync(
        string json, Type type, JsonSerializerOptions options, Dictionary<(string SubjectId, string KeyId), byte[]?>? keys = null, string? subjectOfPlainData = null)
    {
        if (!MayHoldSealedFields(json, type, options) && (subjectOfPlainData is null || PersonalDataFields.Of(type, options).Count == 0))
        {
            return new RevealedJson(json, Erased: false);
        }

        keys ??= [];
        var root = JsonNode.Parse(json)!.AsObject();
        var erased = false;
        foreach (var field in PersonalDataFields.Of(type, options))
        {
            if (root[field] is null)
            {
                continue;
            }

            if (root[field] is not JsonValue value || !value.TryGetValue<string>(out var stored) || !ProtectedField.IsProtected(stored))
            {
                // Plain data written before encryption: nothing to shred, but hidden once its subject is erased.
                if (subjectOfPlainData is not null && await IsErasedAsync(subjectOfPlainData, keys))
                {
                    root[field] = null;
                    erased = true;
                }

                continue;
            }

            if (ProtectedField.IsErasedMarker(stored))
            {
                root[field] = null;
                erased = true;
                continue;
            }

            if (!ProtectedField.TryReadSealer(stored, out var subjectId, out var keyId))
            {
                // Damaged, not erased: showing it as erased would hide a storage fault for good.
                throw new InvalidDataException($"Field '{field}' holds a sealed value that cannot be parsed.");
            }

            if (!keys.TryGetValue((subjectId, keyId), out var key))
            {
                key = keys[(subjectId, keyId)] = await FindKeyAsync(subjectId, keyId);
            }

            root[field] = key is null ? null : JsonNode.Parse(Open(key, stored, field, subjectId, keyId));
            erased |= key is null;
        }

        return new RevealedJson(root.ToJsonString(), erased);
    }

    /// <summary>A slice of a log with its events' and snapshot's personal members revealed (as for one payload).</summary>
    /// <param name="eventTypeOf">The CLR type of a stored event type name (null: unknown, left as it is for the deserializer to refuse).</param>
    public async Task<(StreamSlice Slice, bool Erased)> RevealAsync(StreamSlice slice, Func<string, Type?> eventTypeOf, Type snapshotType, JsonSerializerOptions options)
    {
        var keys = new Dictionary<(string, string), byte[]?>();
        var erased = false;
        var snapshot = slice.Snapshot;
        if (snapshot is not null)
        {
            var revealed = await RevealAsync(snapshot.Data, snapshotType, options, keys);
            snapshot = snapshot with { Data = revealed.Json };
            erased = revealed.Erased;
        }

        var events = new List<StoredEvent>(slice.Events.Count);
        foreach (var stored in slice.Events)
        {
            var revealed = eventTypeOf(stored.Type) is { } type ? await RevealAsync(stored.Data, type, options, keys) : new RevealedJson(stored.Data, false);
            events.Add(stored with { Data = revealed.Json });
            erased |= revealed.Erased;
        }

        return (slice with { Snapshot = snapshot, Events = events, Revealed = true }, erased);
    }

    /// <remarks>
    /// A value of the build before key ids that its subject's one key does not open was sealed
    /// with a key that build lost and replaced (it reused the row): a lost key, not a bug.
    /// </remarks>
    private static string Open(byte[] key, string stored, string field, string subjectId, string keyId)
    {
        try
        {
            return ProtectedField.Open(key, stored, field);
        }
        catch (InvalidDataException mismatch) when (keyId == SubjectKey.LegacyId)
        {
            throw new PersonalDataKeyMissingException(
                $"Field '{field}' of data subject '{subjectId}' was sealed before key ids, and the subject's key row holds another key (an earlier build replaced a lost key): restore the lost row from backup.", mismatch);
        }
    }

    /// <summary>The key <paramref name="subjectId"/>'s new personal data is sealed with (created on first use), or null once they were erased.</summary>
    /// <exception cref="Storage.StorageUnavailableException">The key table could not be reached.</exception>
    public Task<SubjectKey?> CurrentKeyAsync(string subjectId) => grains.GetGrain<ISubjectKeyGrain>(subjectId).GetOrCreateKey();

    /// <summary>The subject's key <paramref name="keyId"/>, or null once they were erased.</summary>
    /// <exception cref="PersonalDataKeyMissingException">Neither that key nor an erasure is recorded.</exception>
    public Task<byte[]?> FindKeyAsync(string subjectId, string keyId) => grains.GetGrain<ISubjectKeyGrain>(subjectId).FindKey(keyId);

    /// <summary>
    /// Whether the subject's key was erased: personal data revealed before the erasure and still
    /// held in memory (a cached view) must not be shown any more.
    /// </summary>
    public Task<bool> IsErasedAsync(string subjectId) => grains.GetGrain<ISubjectKeyGrain>(subjectId).IsErased();

    /// <summary>
    /// <see cref="IsErasedAsync(string)"/>, answered from <paramref name="keys"/> when one of the
    /// subject's keys was fetched already (null: erased); the answer is remembered there under the
    /// key id <see cref="ErasureProbe"/> (null: erased, empty: not).
    /// </summary>
    private async Task<bool> IsErasedAsync(string subjectId, Dictionary<(string SubjectId, string KeyId), byte[]?> keys)
    {
        foreach (var ((subject, _), key) in keys)
        {
            if (subject == subjectId)
            {
                return key is null;
            }
        }

        var erased = await IsErasedAsync(subjectId);
        keys[(subjectId, ErasureProbe)] = erased ? null : [];
        return erased;
    }

    private const string ErasureProbe = "";

    /// <summary>
    /// <paramref name="json"/> with its sealed personal members set to null: what deserializers
    /// read, so that a reader that does not reveal (projections, rebuilds, envelopes) never needs a
    /// key nor sees ciphertext. The hook of the event serializers.
    /// </summary>
    public static string Strip(string json, Type type, JsonSerializerOptions options)
    {
        if (!MayHoldSealedFields(json, type, options))
        {
            return json;
        }

        var root = JsonNode.Parse(json)!.AsObject();
        foreach (var field in PersonalDataFields.Of(type, options))
        {
            if (root[field] is JsonValue value && value.TryGetValue<string>(out var stored) && ProtectedField.IsProtected(stored))
            {
                root[field] = null;
            }
        }

        return root.ToJsonString();
    }

    /// <summary>
    /// Whether a member of the object <paramref name="json"/> named in <paramref name="fields"/> holds
    /// a value other than null, as <c>JsonNode</c> would read it; read through once without building
    /// the document, which an event given no personal data (most placements) does not need.
    /// </summary>
    private static bool AnyPresent(string json, IReadOnlyList<string> fields)
    {
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var reader = new Utf8JsonReader(utf8.AsSpan(0, Encoding.UTF8.GetBytes(json, utf8)));
            reader.Read(); // the object's start
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var personal = false;
                foreach (var field in fields)
                {
                    personal |= reader.ValueTextEquals(field);
                }

                reader.Read();
                if (personal && reader.TokenType != JsonTokenType.Null)
                {
                    return true;
                }

                reader.Skip(); // past a nested object or array
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <summary>
    /// Whether <paramref name="exception"/> says a subject's personal data cannot be revealed although
    /// the key table answered: its key row is lost, cannot be unwrapped, or a sealed value is damaged.
    /// </summary>
    public static bool CannotReveal(Exception exception) =>
        exception is PersonalDataKeyMissingException or PersonalDataKeyUnreadableException or InvalidDataException;

    private static bool MayHoldSealedFields(string json, Type type, JsonSerializerOptions options) =>
        ProtectedField.MayOccurIn(json) && PersonalDataFields.Of(type, options).Count > 0;
}
