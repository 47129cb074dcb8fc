using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrderFlow.Orders.Events;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// How order events and state snapshots are written to the log: JSON, camelCase, with a stable
/// type name per event (never the CLR name, so classes can be renamed) and a schema version.
/// </summary>
public static class OrderEventSerializer
{
    /// <summary>Bump per type when its JSON shape changes, and teach <see cref="Deserialize"/> to upcast the old one.</summary>
    public const int SchemaVersion = 1;

    public const string SnapshotType = "OrderState";

    /// <summary>
    /// Schema of the snapshots this build writes. 2: every refund after the snapshot has its refund
    /// row, and the snapshot's <c>refunds</c> holds only refunds recorded without one
    /// (<see cref="OrderState.RefundsWithoutRows"/>). 1 (earlier builds): <c>refunds</c> holds every
    /// refund, and the refunds after it have no rows. Both load.
    /// </summary>
    public const int SnapshotSchemaVersion = 2;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static readonly FrozenDictionary<string, Type> TypesByName = new Dictionary<string, Type>
    {
        ["OrderPlaced"] = typeof(OrderPlaced),
        ["OrderPaid"] = typeof(OrderPaid),
        ["OrderShipped"] = typeof(OrderShipped),
        ["OrderDelivered"] = typeof(OrderDelivered),
        ["OrderCancelled"] = typeof(OrderCancelled),
        ["OrderRefunded"] = typeof(OrderRefunded),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<Type, string> NamesByType =
        TypesByName.ToFrozenDictionary(pair => pair.Value, pair => pair.Key);

    public static string TypeName(OrderEvent @event) =>
        NamesByType.TryGetValue(@event.GetType(), out var name)
            ? name
            : throw new InvalidOperationException($"{@event.GetType().Name} has no stored type name.");

    public static string Serialize(OrderEvent @event) => JsonSerializer.Serialize(@event, @event.GetType(), Json);

    public static OrderEvent Deserialize(string type, int schemaVersion, string data)
    {
        if (!TypesByName.TryGetValue(type, out var clrType))
        {
            throw new InvalidDataException($"Unknown order event type '{type}'.");
        }

        if (schemaVersion != SchemaVersion)
        {
            throw new InvalidDataException($"Order event '{type}' has schema version {schemaVersion}; this build reads {SchemaVersion}.");
        }

        return (OrderEvent)(JsonSerializer.Deserialize(data, clrType, Json)
            ?? throw new InvalidDataException($"Order event '{type}' has an empty payload."));
    }

    public static string SerializeState(OrderState state) => JsonSerializer.Serialize(state, Json);

    public static OrderState DeserializeState(string data) =>
        JsonSerializer.Deserialize<OrderState>(data, Json) ?? throw new InvalidDataException("Empty order snapshot.");
}
