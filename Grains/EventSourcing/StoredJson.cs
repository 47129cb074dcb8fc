using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// The JSON of every stored event and snapshot: web defaults (camelCase) and enums as camelCase
/// text. Changing it changes what is stored and the hashes of idempotency records.
/// </summary>
public static class StoredJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        // Named, not left to the first serialization: the personal-data fields are looked up
        // through these options' metadata (PersonalDataFields), possibly before anything is serialized.
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
