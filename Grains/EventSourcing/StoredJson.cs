using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// The JSON of every stored event and snapshot: web defaults (camelCase) and enums as camelCase
/// text. Changing it changes what is stored and the hashes of idempotency records.
/// </summary>
public static class StoredJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
