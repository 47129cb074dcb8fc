using System.Globalization;
using OrderFlow.Orders.Commands;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing.Orders;

namespace OrderFlow.Cluster.Tests.Infrastructure;

/// <summary>One command of an order's lifecycle: where it goes, its body, and the event it records when acknowledged.</summary>
public sealed record PlannedCommand(string Name, string Path, object Body, string EventType, TestEvent Event);

/// <summary>
/// An order the load sends, place → pay → ship → deliver, with event times of its own (a day
/// back, spread over the day) so the statistics it feeds are known exactly. Commands acknowledged
/// (2xx) are recorded; the log must hold exactly their events.
/// </summary>
public sealed class PlannedOrder
{
    private const int Customers = 12;
    private static readonly string[] Skus = ["SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E"];

    private readonly List<PlannedCommand> acknowledged = [];

    public PlannedOrder(string run, int index, DateTimeOffset day)
    {
        OrderId = $"cl-{run}-{index.ToString("D5", CultureInfo.InvariantCulture)}";
        var customer = $"cust-{run}-{(index % Customers).ToString(CultureInfo.InvariantCulture)}";
        var currency = index % 3 == 0 ? "USD" : "EUR";
        var lines = new List<Line> { new(Skus[index % Skus.Length], 1 + (index % 4), 10.25m + (index % 7)) };
        if (index % 2 == 0)
        {
            lines.Add(new Line(Skus[(index + 2) % Skus.Length], 2, 4.50m));
        }

        var total = lines.Sum(l => l.Amount);
        var placedAt = day.AddSeconds(index * 37 % 80_000);
        var paidAt = placedAt.AddSeconds(90 + index % 50);
        var shippedAt = paidAt.AddMinutes(20 + index % 30);
        var deliveredAt = shippedAt.AddHours(1 + index % 3);
        var items = lines.Select(l => new OrderLineRequest(l.Sku, l.Quantity, l.UnitPrice)).ToList();
        Commands =
        [
            Planned("place", TestCommands.Place(OrderId, customer, items, placedAt, currency),
                "OrderPlaced", new TestEvent(EventKind.Placed, placedAt, 0, customer, currency, lines)),
            Planned("pay", TestCommands.Pay("pay-" + OrderId, total, paidAt), "OrderPaid", new TestEvent(EventKind.Paid, paidAt, total)),
            Planned("ship", TestCommands.Ship("DHL", "T-" + OrderId, shippedAt), "OrderShipped", new TestEvent(EventKind.Shipped, shippedAt)),
            Planned("deliver", TestCommands.Deliver(deliveredAt), "OrderDelivered", new TestEvent(EventKind.Delivered, deliveredAt)),
        ];
    }

    public string OrderId { get; }

    public IReadOnlyList<PlannedCommand> Commands { get; }

    public IReadOnlyList<PlannedCommand> Acknowledged
    {
        get
        {
            lock (acknowledged)
            {
                return [.. acknowledged];
            }
        }
    }

    public void Acknowledge(PlannedCommand command)
    {
        lock (acknowledged)
        {
            acknowledged.Add(command);
        }
    }

    private PlannedCommand Planned(string name, OrderCommand command, string eventType, TestEvent recorded) =>
        new(name, TestCommands.Path(OrderId, command), TestCommands.Body(command), eventType, recorded);
}
