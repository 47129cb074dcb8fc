using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Orders;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.StuckOrders;

[GenerateSerializer, Alias("orderflow.stuck-orders-state")]
public sealed class StuckOrdersState : IJournaledProjectionState
{
    /// <summary>Made on first use: a deserializer need not run the constructor.</summary>
    [NonSerialized]
    private PendingJournal? journal;

    private PendingJournal Journal => journal ??= new();

    /// <summary>Orders still moving (placed, paid, shipped): status, since, version.</summary>
    [Id(0)] public Dictionary<string, OpenOrder> Open { get; set; } = [];

    /// <summary>Orders that reached delivered, cancelled or refunded: their version and when that was seen.</summary>
    [Id(1)] public Dictionary<string, ClosedOrder> Closed { get; set; } = [];

    /// <summary>
    /// Takes the order's latest version's status, a closed order remembered from <paramref name="seenAt"/>;
    /// an older or repeated event never moves an order back. True when the event was newer than what was known.
    /// </summary>
    public bool Count(OrderEventEnvelope envelope, DateTimeOffset seenAt)
    {
        if (!CountOnce(envelope, seenAt))
        {
            return false;
        }

        Journal.Counted(envelope, withItems: false);
        return true;
    }

    /// <summary>
    /// <see cref="Count"/> for an event read back from the log: a closed order is remembered from
    /// when the log recorded its event, at the latest. A rebuild reads every order there is within
    /// minutes; from when it was read, a partition would keep all of history's closed orders for
    /// the memory (a live generation forgot them that long after they were recorded). Not from the
    /// event's own time: a client loading history dates its events long before it sends them, and
    /// a late live copy of such an order's earlier event would reopen an order forgotten at once.
    /// </summary>
    public bool CountReadBack(OrderEventEnvelope envelope, DateTimeOffset now) =>
        Count(envelope, envelope.RecordedAt is { } recorded && recorded < now ? recorded : now);

    /// <summary>Forgets the closed orders seen before <paramref name="before"/>, to keep the state bounded.</summary>
    public void ForgetClosedBefore(DateTimeOffset before)
    {
        foreach (var (orderId, closed) in Closed)
        {
            if (closed.SeenAt < before)
            {
                Closed.Remove(orderId); // allowed while enumerating: Remove does not invalidate a Dictionary's enumerator
            }
        }
    }

    public ProjectionJournalEntry TakeChanges(DateTimeOffset now) => Journal.Take(now, side: null);

    public void ReturnChanges(ProjectionJournalEntry changes) => Journal.Return(changes);

    /// <summary>
    /// A closed order is seen at the entry's write: a little later than it was, which only makes it
    /// remembered a little longer (one read back is remembered from its entry's write too, at most
    /// a journal's worth since the last snapshot).
    /// </summary>
    public void Apply(ProjectionJournalEntry entry)
    {
        foreach (var envelope in entry.OrderEvents)
        {
            CountOnce(envelope, entry.At);
        }
    }

    private bool CountOnce(OrderEventEnvelope envelope, DateTimeOffset seenAt)
    {
        var known = Open.TryGetValue(envelope.OrderId, out var open) ? open.Version
            : Closed.TryGetValue(envelope.OrderId, out var closed) ? closed.Version
            : 0;
        if (envelope.Version <= known)
        {
            return false;
        }

        if (envelope.StatusAfter is OrderStatus.Placed or OrderStatus.Paid or OrderStatus.Shipped)
        {
            var since = envelope.EntersStatus || open is null ? envelope.OccurredAt : open.Since;
            Open[envelope.OrderId] = new OpenOrder(envelope.StatusAfter, since, envelope.Version);
        }
        else
        {
            Open.Remove(envelope.OrderId);
            Closed[envelope.OrderId] = new ClosedOrder(envelope.Version, seenAt);
        }

        return true;
    }
}
