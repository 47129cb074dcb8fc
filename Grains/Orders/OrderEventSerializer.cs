using System.Text.Json;
using OrderFlow.EventTypes;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Orders.Events;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// How order events and state snapshots are written to the log: <see cref="EventSerializer{TEvent}"/>
/// (stored names and schema versions as each type declares them, <see cref="StoredEventAttribute"/>,
/// never the CLR name; older versions read through the type's upcaster) and the order's snapshot type.
/// </summary>
/// <remarks>
/// The one place where an order's personal data (<see cref="OrderPlaced.ShippingAddress"/>, also in
/// the snapshot) becomes stored text: envelopes and projections never carry it. It is stored sealed
/// (<see cref="PersonalData.PersonalDataProtector"/>); events and snapshots are deserialized with it
/// stripped (null), and the reads that show it reveal the payload first.
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

    /// <summary>The stored JSON (<see cref="StoredJson"/>).</summary>
    public static JsonSerializerOptions Json => StoredJson.Options;

    public static string TypeName(OrderEvent @event) => EventSerializer<OrderEvent>.TypeName(@event);

    public static int SchemaVersionOf(OrderEvent @event) => EventSerializer<OrderEvent>.SchemaVersionOf(@event);

    public static string Serialize(OrderEvent @event) => EventSerializer<OrderEvent>.Serialize(@event);

    /// <exception cref="InvalidDataException">An unknown type, a schema version this build does not read, or an empty payload.</exception>
    public static OrderEvent Deserialize(string type, int schemaVersion, string data, bool revealed = false) => EventSerializer<OrderEvent>.Deserialize(type, schemaVersion, data, revealed);

    public static string SerializeState(OrderState state) => OrderEventSource.Instance.SerializeState(state);

    public static OrderState DeserializeState(string data, bool revealed = false) => OrderEventSource.Instance.DeserializeState(data, revealed);
}
