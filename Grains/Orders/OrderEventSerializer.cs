using System.Text.Json;
using System.Text.Json.Serialization;
using OrderFlow.EventTypes;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Orders.Events;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// How order events and state snapshots are written to the log: JSON, camelCase, with each event's
/// stored name and schema version as its type declares them (<see cref="StoredEventAttribute"/>),
/// never the CLR name. Older versions are read through the type's upcaster.
/// </summary>
/// <remarks>
/// The one place where an order's personal data (<see cref="OrderPlaced.ShippingAddress"/>, also in
/// the snapshot) becomes stored text: envelopes and projections never carry it. It is stored
/// sealed (<see cref="PersonalDataProtector"/>); events (<see cref="EventUpcasters.Read"/>) and
/// snapshots are read with it stripped (null), and the reads that show it reveal the payload first.
/// </remarks>
public static class OrderEventSerializer
{
    public const string SnapshotType = "OrderState";

    /// <summary>
    /// Schema of the snapshots this build writes. 2: every refund after the snapshot has its refund
    /// row, and the snapshot's <c>refunds</c> holds only refunds recorded without one
    /// (<see cref="OrderState.RefundsWithoutRows"/>). 1 (earlier builds): <c>refunds</c> holds every
    /// refund, and the refunds after it have no rows. Both load. A snapshot written before OrderPlaced
    /// version 2 lacks the shipping address and reads as an order without one.
    /// </summary>
    public const int SnapshotSchemaVersion = 2;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string TypeName(OrderEvent @event) => EventTypeRegistry<OrderEvent>.Of(@event).StoredName;

    public static int SchemaVersionOf(OrderEvent @event) => EventTypeRegistry<OrderEvent>.Of(@event).SchemaVersion;

    public static string Serialize(OrderEvent @event) => JsonSerializer.Serialize(@event, @event.GetType(), Json);

    /// <exception cref="InvalidDataException">An unknown type, a schema version this build does not read, or an empty payload.</exception>
    public static OrderEvent Deserialize(string type, int schemaVersion, string data) =>
        EventTypeRegistry<OrderEvent>.TryFind(type, out var eventType)
            ? (OrderEvent)EventUpcasters.Read(eventType, schemaVersion, data, Json)
            : throw new InvalidDataException($"Unknown order event type '{type}'.");

    /// <summary>The CLR type of a stored event type name, or null when this build does not know it.</summary>
    public static Type? ClrTypeOf(string type) => EventTypeRegistry<OrderEvent>.TryFind(type, out var eventType) ? eventType.ClrType : null;

    public static string SerializeState(OrderState state) => JsonSerializer.Serialize(state, Json);

    public static OrderState DeserializeState(string data) =>
        JsonSerializer.Deserialize<OrderState>(PersonalDataProtector.Strip(data, typeof(OrderState), Json), Json) ?? throw new InvalidDataException("Empty order snapshot.");
}
