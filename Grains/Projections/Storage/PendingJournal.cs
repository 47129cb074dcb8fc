using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// The events a journaled state counted since its changes were last taken
/// (<see cref="IJournaledProjectionState"/>): kept in memory only, without what no projection
/// reads back (the trace context). At most <see cref="MaxEvents"/>: beyond that (flushes failing
/// for long, or a storage that never takes them) they are dropped and the next write is a snapshot.
/// </summary>
public sealed class PendingJournal
{
    public const int MaxEvents = 10_000;

    private List<OrderEventEnvelope> orderEvents = [];
    private List<CustomerEventEnvelope> customerEvents = [];
    private bool overflowed;

    /// <summary>Records an order event counted now; <paramref name="withItems"/> false for a projection that does not read the order's lines.</summary>
    public void Counted(OrderEventEnvelope envelope, bool withItems = true)
    {
        if (HasRoom())
        {
            orderEvents.Add(envelope.TraceParent is null && (withItems || envelope.Items.IsDefaultOrEmpty)
                ? envelope
                : envelope with { TraceParent = null, Items = withItems ? envelope.Items : [] });
        }
    }

    public void Counted(CustomerEventEnvelope envelope)
    {
        if (HasRoom())
        {
            customerEvents.Add(envelope.TraceParent is null ? envelope : envelope with { TraceParent = null });
        }
    }

    public ProjectionJournalEntry Take(DateTimeOffset now, object? side)
    {
        var entry = new ProjectionJournalEntry { OrderEvents = orderEvents, CustomerEvents = customerEvents, Side = side, At = now, Overflowed = overflowed };
        orderEvents = [];
        customerEvents = [];
        overflowed = false;
        return entry;
    }

    public void Return(ProjectionJournalEntry changes)
    {
        orderEvents = [.. changes.OrderEvents, .. orderEvents];
        customerEvents = [.. changes.CustomerEvents, .. customerEvents];
        overflowed |= changes.Overflowed;
        HasRoom();
    }

    private bool HasRoom()
    {
        if (!overflowed && orderEvents.Count + customerEvents.Count >= MaxEvents)
        {
            overflowed = true;
        }

        if (overflowed)
        {
            orderEvents.Clear();
            customerEvents.Clear();
        }

        return !overflowed;
    }
}
