using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.EventTypes;
using OrderFlow.Grains.PersonalData;

namespace OrderFlow.Grains.EventStore;

/// <summary>Reads a stored event payload of any schema version the type has had, through its upcaster.</summary>
public static class EventUpcasters
{
    private static readonly FrozenDictionary<Type, EventUpcaster> ByEventType = typeof(EventUpcaster).Assembly.GetTypes()
        .Where(type => type.IsSubclassOf(typeof(EventUpcaster)) && !type.IsAbstract)
        .Select(type => (EventUpcaster)Activator.CreateInstance(type)!)
        .ToFrozenDictionary(upcaster => upcaster.EventType);

    /// <summary>The upcaster of <paramref name="eventType"/>, if it has one.</summary>
    public static EventUpcaster? For(Type eventType) => ByEventType.GetValueOrDefault(eventType);

    /// <summary>
    /// The event <paramref name="data"/> holds, stored with <paramref name="schemaVersion"/>: read
    /// as it is when that is the type's version now, else upcast step by step first. Sealed
    /// personal members read as null (<see cref="PersonalDataProtector.Strip"/>): a caller that
    /// shows them reveals <paramref name="data"/> first, and says so (<paramref name="revealed"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">A version this build does not know, or an empty payload.</exception>
    public static object Read(EventType type, int schemaVersion, string data, JsonSerializerOptions json, bool revealed = false)
    {
        if (!revealed)
        {
            data = PersonalDataProtector.Strip(data, type.ClrType, json);
        }

        if (schemaVersion < 1 || schemaVersion > type.SchemaVersion)
        {
            throw new InvalidDataException($"Event '{type.StoredName}' has schema version {schemaVersion}; this build reads 1 to {type.SchemaVersion}.");
        }

        if (schemaVersion == type.SchemaVersion)
        {
            return JsonSerializer.Deserialize(data, type.ClrType, json)
                ?? throw new InvalidDataException($"Event '{type.StoredName}' has an empty payload.");
        }

        var upcaster = For(type.ClrType)
            ?? throw new InvalidDataException($"Event '{type.StoredName}' of schema version {schemaVersion} has no upcaster to version {type.SchemaVersion}.");
        var node = JsonNode.Parse(data) as JsonObject
            ?? throw new InvalidDataException($"Event '{type.StoredName}' has a payload that is not a JSON object.");
        for (var version = schemaVersion; version < type.SchemaVersion; version++)
        {
            upcaster.Upcast(version, node);
        }

        return node.Deserialize(type.ClrType, json)
            ?? throw new InvalidDataException($"Event '{type.StoredName}' has an empty payload.");
    }
}
