using System.Text.Json;
using OrderFlow.EventTypes;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// How the events of one event source are written to the log: <see cref="StoredJson"/>, with each
/// event's stored name and schema version as its type declares them (<see cref="StoredEventAttribute"/>,
/// looked up in <see cref="EventTypeRegistry{TEvent}"/>), never the CLR name. Older schema versions
/// are read through the type's upcaster (<see cref="EventUpcasters"/>).
/// </summary>
public static class EventSerializer<TEvent>
    where TEvent : class
{
    public static string TypeName(TEvent @event) => EventTypeRegistry<TEvent>.Of(@event).StoredName;

    public static int SchemaVersionOf(TEvent @event) => EventTypeRegistry<TEvent>.Of(@event).SchemaVersion;

    public static string Serialize(TEvent @event) => JsonSerializer.Serialize(@event, @event.GetType(), StoredJson.Options);

    /// <exception cref="InvalidDataException">An unknown type, a schema version this build does not read, or an empty payload.</exception>
    /// <param name="revealed">The personal members of <paramref name="data"/> were decrypted: not to be stripped.</param>
    public static TEvent Deserialize(string type, int schemaVersion, string data, bool revealed = false) =>
        EventTypeRegistry<TEvent>.TryFind(type, out var eventType)
            ? (TEvent)EventUpcasters.Read(eventType, schemaVersion, data, StoredJson.Options, revealed)
            : throw new InvalidDataException($"Unknown {typeof(TEvent).Name} type '{type}'.");

    /// <summary>The CLR type of a stored event type name, or null when this build does not know it.</summary>
    public static Type? ClrTypeOf(string type) => EventTypeRegistry<TEvent>.TryFind(type, out var eventType) ? eventType.ClrType : null;

    /// <summary>A stored event back as its event.</summary>
    public static TEvent Deserialize(StoredEvent stored, bool revealed = false) => Deserialize(stored.Type, stored.SchemaVersion, stored.Data, revealed);
}
