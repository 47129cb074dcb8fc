using System.Collections.Frozen;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Projections;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections;

/// <summary>
/// The one registry of stream categories (one per event source): what projections can consume
/// (see <see cref="ProjectionDefinition.Consumes"/>), what a rebuild scans (<see cref="All"/>), and
/// how the read-back parks a stream it cannot read (<see cref="Feed.StreamReadBack"/>). A new
/// aggregate is one entry here, listed in <see cref="All"/>, with a <see cref="ParkedKind"/> of its own.
/// </summary>
public static class EventCategories
{
    public static readonly EventCategory<OrderEventEnvelope> Orders = new EventSourceCategory<OrderState, OrderEvent, OrderEventEnvelope>
    {
        Source = OrderEventSource.Instance,
        ParkedStreamKind = ParkedKind.Order,
        ParkedEventKind = ParkedKind.Event,
        IdentityOf = envelope => (envelope.OrderId, envelope.Version),
        DefectOf = envelope =>
            envelope.OrderId is null ? "no order id"
            : envelope.Type is null ? "no event type"
            : envelope.CustomerId is null ? "no customer id"
            : envelope.Currency is null ? "no currency"
            : envelope.Items.IsDefault ? "no items"
            : envelope.Items.Any(line => line?.Sku is null) ? "an item without a SKU"
            : null,
        RecordedAtOf = envelope => envelope.RecordedAt,
        TraceParentOf = envelope => envelope.TraceParent,
    };

    public static readonly EventCategory<CustomerEventEnvelope> Customers = new EventSourceCategory<CustomerState, CustomerEvent, CustomerEventEnvelope>
    {
        Source = CustomerEventSource.Instance,
        ParkedStreamKind = ParkedKind.Customer,
        IdentityOf = envelope => (envelope.CustomerId, envelope.Version),
        DefectOf = envelope =>
            envelope.CustomerId is null ? "no customer id"
            : envelope.Type is null ? "no event type"
            : null,
        RecordedAtOf = envelope => envelope.RecordedAt,
        TraceParentOf = envelope => envelope.TraceParent,
    };

    /// <summary>Every category, in the order a rebuild scans them (orders first; the customer projection joins the two whichever comes first).</summary>
    public static IReadOnlyList<EventCategory> All { get; } = [Orders, Customers];

    private static readonly FrozenDictionary<string, EventCategory> ByName = All.ToFrozenDictionary(category => category.Name, StringComparer.Ordinal);

    /// <summary>The registered category named <paramref name="name"/> (an event source's <c>Category</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No category of that name is registered.</exception>
    public static EventCategory Named(string name) =>
        ByName.TryGetValue(name, out var category)
            ? category
            : throw new ArgumentOutOfRangeException(nameof(name), name, "No stream category of this name is registered in EventCategories.");
}
