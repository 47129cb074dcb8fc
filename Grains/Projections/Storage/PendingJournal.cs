using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// The events a journaled state counted since its changes were last taken
/// (<see cref="IJournaledProjectionState"/>): kept in memory only, without what no projection
/// reads back (the trace context).
/// </summary>
public sealed class PendingJournal
{
    private List<OrderEventEnvelope> orderEvents = [];
    private List<CustomerEventEnvelope> customerEvents = [];

    /// <summary>Records an order event counted now; <paramref name="withItems"/> false for a projection that does not read the order's lines.</summary>
    public void Counted(OrderEventEnvelope envelope, bool withItems = true) =>
        orderEvents.Add(envelope with { TraceParent = null, Items = withItems ? envelope.Items : [] });

    public void Counted(CustomerEventEnvelope envelope) => customerEvents.Add(envelope with { TraceParent = null });

    public ProjectionJournalEntry Take(DateTimeOffset now, object? side)
    {
        var entry = new ProjectionJournalEntry { OrderEvents = orderEvents, CustomerEvents = customerEvents, Side = side, At = now };
        orderEvents = [];
        customerEvents = [];
        return entry;
    }

    public void Return(ProjectionJournalEntry changes)
    {
        orderEvents = [.. changes.OrderEvents, .. orderEvents];
        customerEvents = [.. changes.CustomerEvents, .. customerEvents];
    }
}
