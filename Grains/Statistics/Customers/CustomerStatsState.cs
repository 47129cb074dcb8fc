using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Customers;

[GenerateSerializer, Alias("orderflow.customer-stats-state")]
public sealed class CustomerStatsState : IJournaledProjectionState
{
    /// <summary>Made on first use: a deserializer need not run the constructor.</summary>
    [NonSerialized]
    private PendingJournal? journal;

    private PendingJournal Journal => journal ??= new();

    [Id(0)] public long Orders { get; set; }
    [Id(1)] public decimal Spend { get; set; }
    [Id(2)] public long Cancellations { get; set; }
    [Id(3)] public long Refunds { get; set; }
    [Id(4)] public decimal RefundedAmount { get; set; }

    /// <summary>Orders that ended cancelled or fully refunded, with the event time of that ending.</summary>
    [Id(5)] public Dictionary<string, DateTimeOffset> BadEndings { get; set; } = [];

    /// <summary>Placement time and total of every order, in (time, order id) order once read (<see cref="Placed"/>).</summary>
    [Id(6)] private List<PlacedOrder> placed = [];

    /// <summary><see cref="placed"/> is in order: set at its first use, since builds before 2026-11-30 stored it in the order counted.</summary>
    [NonSerialized]
    private bool placedInOrder;

    /// <summary>The rules' scan over <see cref="Placed"/> so far (<see cref="ScanFor"/>), kept while placements come after it.</summary>
    [NonSerialized]
    private PlacementScan? scan;

    /// <summary>Placement time and total of every order, in (time, order id) order: the rules over placements (velocity, large order, new account) read them in this order.</summary>
    public IReadOnlyList<PlacedOrder> Placed => PlacedInOrder();

    private List<PlacedOrder> PlacedInOrder()
    {
        if (!placedInOrder)
        {
            placed.Sort(PlacementOrder);
            placedInOrder = true;
        }

        return placed;
    }

    /// <summary>The alerts that stand now, by id.</summary>
    [Id(7)] public Dictionary<string, RiskAlert> Alerts { get; set; } = [];

    [Id(9)] public CountedEvents Counted { get; set; } = new();

    /// <summary>The alerts as last applied to the <see cref="AlertFeedGrain"/>.</summary>
    [Id(10)] public Dictionary<string, RiskAlert> InFeed { get; set; } = [];

    /// <summary>
    /// Alert id → the days' feeds it may be in. Recorded before an alert is raised on a day, and
    /// narrowed only once every other day has confirmed its withdrawal, so that an alert whose day
    /// moved is withdrawn everywhere even after a partial failure or a crash.
    /// </summary>
    [Id(11)] public Dictionary<string, HashSet<DateOnly>> FeedDays { get; set; } = [];

    /// <summary>The customer id, as the events carry it: the grain key holds only a hash of a very long one (<see cref="StatisticsKeys.Customer"/>).</summary>
    [Id(12)] public string? CustomerId { get; set; }

    /// <summary>Which customer events were counted, by (customer id, version): apart from <see cref="Counted"/>, whose ids are order ids.</summary>
    [Id(13)] public CountedEvents CountedCustomerEvents { get; set; } = new();

    /// <summary>The registration, which rule new-account-large-order joins with <see cref="Placed"/>.</summary>
    [Id(14)] public CustomerRegistration Registration { get; set; } = new();

    /// <summary>Counts an order event of the customer unless it was counted before; true when it was counted now.</summary>
    public bool Count(OrderEventEnvelope envelope)
    {
        if (!CountOnce(envelope))
        {
            return false;
        }

        Journal.Counted(envelope, withItems: false);
        return true;
    }

    /// <summary>Counts a customer event unless it was counted before; true when it was counted now.</summary>
    public bool Count(CustomerEventEnvelope envelope)
    {
        if (!CountOnce(envelope))
        {
            return false;
        }

        Journal.Counted(envelope);
        return true;
    }

    public ProjectionJournalEntry TakeChanges(DateTimeOffset now) => Journal.Take(now, new CustomerFeedSent(InFeed, FeedDays));

    public void ReturnChanges(ProjectionJournalEntry changes) => Journal.Return(changes);

    public void Apply(ProjectionJournalEntry entry)
    {
        foreach (var envelope in entry.OrderEvents)
        {
            CountOnce(envelope);
        }

        foreach (var envelope in entry.CustomerEvents)
        {
            CountOnce(envelope);
        }

        if (entry.Side is CustomerFeedSent sent)
        {
            (InFeed, FeedDays) = (sent.InFeed, sent.FeedDays);
        }
    }

    private bool CountOnce(OrderEventEnvelope envelope)
    {
        if (!Counted.TryMark(envelope.OrderId, envelope.Version))
        {
            return false;
        }

        CustomerId ??= envelope.CustomerId;
        switch (envelope.Type)
        {
            case OrderPlaced.StoredName:
                Orders++;
                Place(new PlacedOrder(envelope.OrderId, envelope.OccurredAt, envelope.OrderTotal));
                break;
            case OrderPaid.StoredName:
                Spend += envelope.Amount;
                break;
            case OrderCancelled.StoredName:
                Cancellations++;
                break;
            case OrderRefunded.StoredName:
                Refunds++;
                RefundedAmount += envelope.Amount;
                break;
        }

        if (envelope.EntersStatus && envelope.StatusAfter is OrderStatus.Cancelled or OrderStatus.Refunded)
        {
            BadEndings[envelope.OrderId] = envelope.OccurredAt;
        }

        return true;
    }

    /// <summary>Adds a placement where its time puts it; one before the point the rules' scan goes on from makes the next scan start over.</summary>
    public void Place(PlacedOrder order)
    {
        var inOrder = PlacedInOrder();
        var index = inOrder.BinarySearch(order, PlacementOrder);
        inOrder.Insert(index >= 0 ? index : ~index, order);
        if (scan is not null && !scan.CanGoOnAfter(order.At))
        {
            scan = null;
        }
    }

    /// <summary>The rules' scan for this customer and these thresholds, going on from the last when it was made for the same.</summary>
    internal PlacementScan ScanFor(string customerId, RiskOptions risk) =>
        scan is { } existing && existing.IsFor(customerId, risk) ? existing : scan = new PlacementScan(customerId, risk);

    private static readonly Comparer<PlacedOrder> PlacementOrder = Comparer<PlacedOrder>.Create((a, b) =>
        a.At.CompareTo(b.At) is var byTime and not 0 ? byTime : string.CompareOrdinal(a.OrderId, b.OrderId));

    /// <summary>Every customer event of a registered customer carries the registration time.</summary>
    private bool CountOnce(CustomerEventEnvelope envelope)
    {
        if (!CountedCustomerEvents.TryMark(envelope.CustomerId, envelope.Version))
        {
            return false;
        }

        CustomerId ??= envelope.CustomerId;
        if (envelope.IsRegistered)
        {
            // A subject erased without registering has events but no registration.
            Registration.RegisteredAt ??= envelope.RegisteredAt;
        }

        return true;
    }
}
