using System.Globalization;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Model;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>Writes an order's events straight into the event log, as another writer (or a crashed silo) would have.</summary>
public static class LogWriter
{
    /// <summary>The product events a plan's commands produce.</summary>
    public static List<OrderEvent> Events(OrderPlan plan)
    {
        var refunds = 0;
        return [.. plan.Events().Select<TestEvent, OrderEvent>(e => e.Kind switch
        {
            EventKind.Placed => new OrderPlaced(e.At, plan.OrderId, plan.CustomerId, plan.Currency,
                [.. plan.Lines.Select(l => new OrderLine(l.Sku, l.Quantity, l.UnitPrice))], plan.Total),
            EventKind.Paid => new OrderPaid(e.At, "pay-" + plan.OrderId, e.Amount, "card"),
            EventKind.Shipped => new OrderShipped(e.At, "DHL", "TRACK-" + plan.OrderId),
            EventKind.Delivered => new OrderDelivered(e.At),
            EventKind.Cancelled => new OrderCancelled(e.At, "written directly"),
            EventKind.Refunded => new OrderRefunded(e.At, string.Create(CultureInfo.InvariantCulture, $"ref-{refunds++}"), e.Amount, "written directly"),
            _ => throw new InvalidOperationException(e.Kind.ToString()),
        })];
    }

    /// <summary>Rows for <paramref name="events"/>, serialized by the product's storage format.</summary>
    public static List<EventToAppend> Rows(IEnumerable<OrderEvent> events) =>
        [.. events.Select(e => new EventToAppend(
            Guid.CreateVersion7(),
            OrderEventSerializer.TypeName(e),
            OrderEventSerializer.SchemaVersionOf(e),
            e.OccurredAt,
            "statistics-tests",
            null,
            OrderEventSerializer.Serialize(e)))];

    /// <summary>Appends events <paramref name="from"/>.. of the plan (1-based versions) with the given publication marker.</summary>
    public static Task AppendAsync(TableEventStore store, OrderPlan plan, int from, int? to, int publishedThrough, CancellationToken cancellationToken)
    {
        var events = Events(plan);
        var slice = events.Skip(from - 1).Take((to ?? events.Count) - from + 1);
        return store.AppendAsync(plan.OrderId, from - 1, Rows(slice), publishedThrough: publishedThrough, cancellationToken: cancellationToken);
    }
}
