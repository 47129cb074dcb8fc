using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders.Events;

namespace OrderFlow.Statistics.Tests.Model;

/// <summary>An order line as the test knows it.</summary>
public sealed record Line(string Sku, int Quantity, decimal UnitPrice)
{
    public decimal Amount => Quantity * UnitPrice;
}

public enum EventKind
{
    Placed,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

/// <summary>An order event as the test knows it: independent of the product's event and envelope types.</summary>
public sealed record TestEvent(
    EventKind Kind,
    DateTimeOffset At,
    decimal Amount = 0,
    string? CustomerId = null,
    string? Currency = null,
    IReadOnlyList<Line>? Lines = null);

/// <summary>
/// One event of one order with everything the statistics need, derived by the test's own fold
/// (<see cref="Facts.ForOrder"/>): the status it made the order enter (if any) and the stage latency it closes.
/// </summary>
public sealed record Fact(
    string OrderId,
    int Version,
    EventKind Kind,
    DateTimeOffset At,
    string CustomerId,
    string Currency,
    decimal OrderTotal,
    decimal Amount,
    IReadOnlyList<Line> Lines,
    string? Entered,
    string StatusAfter,
    double? LatencySeconds)
{
    public string Type => "Order" + Kind;
}

/// <summary>The test's own fold of an order's events (never the product's StatsBucket or OrderState).</summary>
public static class Facts
{
    public static List<Fact> ForOrder(string orderId, IEnumerable<TestEvent> events)
    {
        var facts = new List<Fact>();
        var status = "none";
        var customer = string.Empty;
        var currency = string.Empty;
        IReadOnlyList<Line> lines = [];
        decimal total = 0, paid = 0, refunded = 0;
        DateTimeOffset placedAt = default, paidAt = default, shippedAt = default;
        var version = 0;
        foreach (var e in events)
        {
            version++;
            var before = status;
            double? latency = null;
            var amount = 0m;
            switch (e.Kind)
            {
                case EventKind.Placed:
                    customer = e.CustomerId ?? throw new ArgumentException("A placement needs a customer.");
                    currency = e.Currency ?? throw new ArgumentException("A placement needs a currency.");
                    lines = e.Lines ?? throw new ArgumentException("A placement needs lines.");
                    total = lines.Sum(l => l.Amount);
                    amount = total;
                    placedAt = e.At;
                    status = "placed";
                    break;
                case EventKind.Paid:
                    amount = e.Amount;
                    paid += e.Amount;
                    latency = Seconds(placedAt, e.At);
                    paidAt = e.At;
                    status = "paid";
                    break;
                case EventKind.Shipped:
                    latency = Seconds(paidAt, e.At);
                    shippedAt = e.At;
                    status = "shipped";
                    break;
                case EventKind.Delivered:
                    latency = Seconds(shippedAt, e.At);
                    status = "delivered";
                    break;
                case EventKind.Cancelled:
                    status = "cancelled";
                    break;
                case EventKind.Refunded:
                    amount = e.Amount;
                    refunded += e.Amount;
                    if (status == "delivered" && refunded >= paid)
                    {
                        status = "refunded";
                    }

                    break;
            }

            facts.Add(new Fact(
                orderId, version, e.Kind, e.At, customer, currency, total, amount,
                e.Kind is EventKind.Placed or EventKind.Paid ? lines : [],
                status != before ? status : null, status, latency));
        }

        return facts;
    }

    /// <summary>Test events from events as stored in the log (payloads parsed with the product's storage format).</summary>
    public static IEnumerable<TestEvent> FromLog(IEnumerable<StoredEvent> stored) =>
        stored.OrderBy(e => e.Version).Select(e => OrderEventSerializer.Deserialize(e.Type, e.SchemaVersion, e.Data) switch
        {
            OrderPlaced p => new TestEvent(EventKind.Placed, p.OccurredAt, 0, p.CustomerId, p.Currency,
                [.. p.Items.Select(i => new Line(i.Sku, i.Quantity, i.UnitPrice))]),
            OrderPaid p => new TestEvent(EventKind.Paid, p.OccurredAt, p.Amount),
            OrderShipped s => new TestEvent(EventKind.Shipped, s.OccurredAt),
            OrderDelivered d => new TestEvent(EventKind.Delivered, d.OccurredAt),
            OrderCancelled c => new TestEvent(EventKind.Cancelled, c.OccurredAt),
            OrderRefunded r => new TestEvent(EventKind.Refunded, r.OccurredAt, r.Amount),
            var other => throw new InvalidOperationException($"Unknown event {other.GetType().Name}."),
        });

    private static double Seconds(DateTimeOffset from, DateTimeOffset to) => Math.Max(0, (to - from).TotalSeconds);
}
