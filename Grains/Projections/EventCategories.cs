using OrderFlow.Customers.Events;
using OrderFlow.EventTypes;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections;

/// <summary>
/// The stream categories projections can consume (see <see cref="ProjectionDefinition.Consumes"/>),
/// named as the event store names them (<see cref="StreamCategories"/>, an aggregate's <c>Category</c>).
/// </summary>
public static class EventCategories
{
    public static readonly EventCategory<OrderEventEnvelope> Orders = new()
    {
        Name = StreamCategories.Order,
        StreamNamespace = OrderEventStreams.Namespace,
        EventTypes = EventTypeRegistry<OrderEvent>.All,
        TypeOf = envelope => envelope.Type,
        IdentityOf = envelope => (envelope.OrderId, envelope.Version),
        RecordedAtOf = envelope => envelope.RecordedAt,
        TraceParentOf = envelope => envelope.TraceParent,
    };

    public static readonly EventCategory<CustomerEventEnvelope> Customers = new()
    {
        Name = CustomerEventSource.CategoryName,
        StreamNamespace = CustomerEventStreams.Namespace,
        EventTypes = EventTypeRegistry<CustomerEvent>.All,
        TypeOf = envelope => envelope.Type,
        IdentityOf = envelope => (envelope.CustomerId, envelope.Version),
        RecordedAtOf = envelope => envelope.RecordedAt,
        TraceParentOf = envelope => envelope.TraceParent,
    };
}
