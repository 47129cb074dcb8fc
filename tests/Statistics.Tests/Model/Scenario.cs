using System.Globalization;
using OrderFlow.Orders.Commands;
using OrderFlow.Testing.Orders;

namespace OrderFlow.Statistics.Tests.Model;

public enum StepKind
{
    Place,
    Pay,
    Ship,
    Deliver,
    Cancel,
    Refund,
}

/// <summary>One command the test sends: its kind, event time, and (payment / refund) amount and id.</summary>
public sealed record Step(StepKind Kind, DateTimeOffset At, decimal Amount = 0, string? Id = null);

/// <summary>An order and the commands the test will send for it, in order.</summary>
public sealed record OrderPlan(string OrderId, string CustomerId, string Currency, IReadOnlyList<Line> Lines, IReadOnlyList<Step> Steps)
{
    public decimal Total => Lines.Sum(l => l.Amount);

    public DateTimeOffset PlacedAt => Steps[0].At;

    /// <summary>The events the commands produce (ground truth from the commands, not from the log).</summary>
    public IEnumerable<TestEvent> Events()
    {
        var paid = false;
        foreach (var step in Steps)
        {
            switch (step.Kind)
            {
                case StepKind.Place:
                    yield return new TestEvent(EventKind.Placed, step.At, 0, CustomerId, Currency, Lines);
                    break;
                case StepKind.Pay:
                    paid = true;
                    yield return new TestEvent(EventKind.Paid, step.At, step.Amount);
                    break;
                case StepKind.Ship:
                    yield return new TestEvent(EventKind.Shipped, step.At);
                    break;
                case StepKind.Deliver:
                    yield return new TestEvent(EventKind.Delivered, step.At);
                    break;
                case StepKind.Cancel:
                    yield return new TestEvent(EventKind.Cancelled, step.At);
                    if (paid)
                    {
                        // API.md: a paid order is refunded in full by the same command.
                        yield return new TestEvent(EventKind.Refunded, step.At, Total);
                    }

                    break;
                case StepKind.Refund:
                    yield return new TestEvent(EventKind.Refunded, step.At, step.Amount);
                    break;
            }
        }
    }

    public List<Fact> Facts() => Model.Facts.ForOrder(OrderId, Events());

    /// <summary>The command <paramref name="step"/> sends, to the grain or (as its API body) over HTTP.</summary>
    public OrderCommand Command(Step step) => step.Kind switch
    {
        StepKind.Place => TestCommands.Place(OrderId, CustomerId, [.. Lines.Select(l => new OrderLineRequest(l.Sku, l.Quantity, l.UnitPrice))], step.At, Currency),
        StepKind.Pay => TestCommands.Pay(step.Id!, step.Amount, step.At),
        StepKind.Ship => TestCommands.Ship("DHL", "TRACK-" + OrderId, step.At),
        StepKind.Deliver => TestCommands.Deliver(step.At),
        StepKind.Cancel => TestCommands.Cancel("changed my mind", step.At),
        StepKind.Refund => TestCommands.Refund(step.Id!, step.Amount, "returned", step.At),
        _ => throw new InvalidOperationException(step.Kind.ToString()),
    };

    /// <summary>The order's version after each step (a cancellation of a paid order appends two events).</summary>
    public int VersionAfter(int stepIndex)
    {
        var version = 0;
        var paid = false;
        for (var i = 0; i <= stepIndex; i++)
        {
            version += Steps[i].Kind == StepKind.Cancel && paid ? 2 : 1;
            paid |= Steps[i].Kind == StepKind.Pay;
        }

        return version;
    }
}

public enum Lifecycle
{
    PlacedOnly,
    Paid,
    Shipped,
    Delivered,
    PartialRefunds,
    FullRefund,
    CancelledWhenPlaced,
    CancelledWhenPaid,
}

/// <summary>Random orders with random lifecycles, amounts of at most 2 decimals and increasing millisecond event times.</summary>
public sealed class ScenarioGenerator(Random random, IReadOnlyList<string> skus)
{
    public static readonly Lifecycle[] Lifecycles = Enum.GetValues<Lifecycle>();

    public Lifecycle AnyLifecycle() => Lifecycles[random.Next(Lifecycles.Length)];

    public IReadOnlyList<Line> RandomLines()
    {
        var count = random.Next(1, 5);
        return [.. skus.OrderBy(_ => random.Next()).Take(count)
            .Select(sku => new Line(sku, random.Next(1, 6), random.Next(100, 50_000) / 100m))];
    }

    /// <summary>A gap between two steps: sometimes seconds, mostly minutes to hours, always whole milliseconds.</summary>
    public TimeSpan Gap() => random.NextDouble() < 0.3
        ? TimeSpan.FromMilliseconds(random.NextInt64(1_000, 120_000))
        : TimeSpan.FromMilliseconds(random.NextInt64(120_000, 3 * 3_600_000));

    public DateTimeOffset RandomTime(DateTimeOffset from, TimeSpan span) =>
        from.AddMilliseconds(random.NextInt64(0, (long)span.TotalMilliseconds));

    public OrderPlan Order(string orderId, string customerId, string currency, Lifecycle lifecycle, DateTimeOffset placedAt, IReadOnlyList<Line>? lines = null)
    {
        lines ??= RandomLines();
        var total = lines.Sum(l => l.Amount);
        var steps = new List<Step> { new(StepKind.Place, placedAt) };
        var at = placedAt;
        Step Next(StepKind kind, decimal amount = 0, string? id = null)
        {
            at += Gap();
            return new Step(kind, at, amount, id);
        }

        if (lifecycle == Lifecycle.CancelledWhenPlaced)
        {
            steps.Add(Next(StepKind.Cancel));
            return new OrderPlan(orderId, customerId, currency, lines, steps);
        }

        if (lifecycle == Lifecycle.PlacedOnly)
        {
            return new OrderPlan(orderId, customerId, currency, lines, steps);
        }

        steps.Add(Next(StepKind.Pay, total, "pay-" + orderId));
        if (lifecycle == Lifecycle.CancelledWhenPaid)
        {
            steps.Add(Next(StepKind.Cancel));
        }

        if (lifecycle is Lifecycle.Paid or Lifecycle.CancelledWhenPaid)
        {
            return new OrderPlan(orderId, customerId, currency, lines, steps);
        }

        steps.Add(Next(StepKind.Ship));
        if (lifecycle == Lifecycle.Shipped)
        {
            return new OrderPlan(orderId, customerId, currency, lines, steps);
        }

        steps.Add(Next(StepKind.Deliver));
        switch (lifecycle)
        {
            case Lifecycle.PartialRefunds:
                var refunds = random.Next(1, 3);
                for (var i = 0; i < refunds; i++)
                {
                    // Each at most 30 % of the total: never the whole of it.
                    var amount = Math.Max(0.01m, decimal.Round(total * (decimal)(0.05 + random.NextDouble() * 0.25), 2));
                    steps.Add(Next(StepKind.Refund, amount, string.Create(CultureInfo.InvariantCulture, $"ref-{orderId}-{i}")));
                }

                break;
            case Lifecycle.FullRefund:
                if (random.Next(2) == 0)
                {
                    steps.Add(Next(StepKind.Refund, total, "ref-" + orderId + "-all"));
                }
                else
                {
                    var part = decimal.Round(total * 0.4m, 2);
                    steps.Add(Next(StepKind.Refund, part, "ref-" + orderId + "-part"));
                    steps.Add(Next(StepKind.Refund, total - part, "ref-" + orderId + "-rest"));
                }

                break;
        }

        return new OrderPlan(orderId, customerId, currency, lines, steps);
    }
}
