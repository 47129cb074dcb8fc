using OrderFlow.Orders;

namespace OrderFlow.Statistics.Tests.Model;

/// <summary>What a summary over a range must say, computed by the test from its facts.</summary>
public sealed record ExpectedSummary(
    IReadOnlyDictionary<string, long> Events,
    IReadOnlyDictionary<string, long> Orders,
    decimal Revenue,
    decimal Refunds,
    long Payments,
    IReadOnlyDictionary<string, (decimal Revenue, decimal Refunds, long Payments)> ByCurrency,
    IReadOnlyDictionary<string, double[]> Latencies);

/// <summary>What one time-series bucket must say; From and To are the part of [Start, Start + interval) the range covers.</summary>
public sealed record ExpectedBucket(
    DateTimeOffset Start, long Placed, long Paid, long Shipped, long Delivered, long Cancelled, long Refunded, decimal Revenue, decimal Refunds,
    bool Partial, DateTimeOffset From, DateTimeOffset To);

/// <summary>A customer's figures and risk, by the test's own reading of README "Statistics" and the risk-rule table.</summary>
public sealed record ExpectedCustomer(
    string CustomerId,
    long Orders,
    decimal Spend,
    long Cancellations,
    long Refunds,
    decimal RefundedAmount,
    IReadOnlyList<string> Rules,
    int RiskScore,
    IReadOnlySet<string> VelocityTriggers,
    IReadOnlySet<string> LargeOrders,
    DateTimeOffset? LatestBadEnding);

/// <summary>
/// The statistics the product must report, folded independently from a list of facts (the test's
/// own reading of README "Statistics"; none of the product's projection code is used).
/// </summary>
public sealed class Expected(IEnumerable<Fact> facts)
{
    public static readonly string[] EventTypes = ["OrderPlaced", "OrderPaid", "OrderShipped", "OrderDelivered", "OrderCancelled", "OrderRefunded"];
    public static readonly string[] Statuses = ["placed", "paid", "shipped", "delivered", "cancelled", "refunded"];
    public static readonly string[] Stages = ["placedToPaid", "paidToShipped", "shippedToDelivered"];

    public const string Velocity = "order-velocity";
    public const string LargeOrder = "large-order";
    public const string CancelRefundRatio = "cancel-refund-ratio";
    public static readonly string[] Rules = [Velocity, LargeOrder, CancelRefundRatio];

    // Defaults of Statistics:Risk (README "Risk rules").
    public const int VelocityMaxOrders = 5;
    public static readonly TimeSpan VelocityWindow = TimeSpan.FromMinutes(10);
    public const decimal LargeOrderFactor = 5m;
    public const int LargeOrderMinHistory = 3;
    public const int CancelRefundMinOrders = 4;

    private readonly List<Fact> all = [.. facts];

    public IReadOnlyList<Fact> Facts => all;

    public IReadOnlyList<string> Customers => [.. all.Select(f => f.CustomerId).Distinct().Order(StringComparer.Ordinal)];

    public DateTimeOffset First => all.Min(f => f.At);

    public DateTimeOffset Last => all.Max(f => f.At);

    /// <summary>
    /// README "Statistics": kept per minute, an event counts when the start of its minute lies in
    /// [from, to), whatever the alignment of from and to.
    /// </summary>
    private IEnumerable<Fact> In(DateTimeOffset? from, DateTimeOffset? to) =>
        all.Where(f => (from is null || MinuteOf(f.At) >= from) && (to is null || MinuteOf(f.At) < to));

    private static DateTimeOffset MinuteOf(DateTimeOffset time) =>
        new(time.UtcDateTime.Year, time.UtcDateTime.Month, time.UtcDateTime.Day, time.UtcDateTime.Hour, time.UtcDateTime.Minute, 0, TimeSpan.Zero);

    /// <summary>The range a query takes effect as: the first and the last minute whose start lies in [from, to), the latter's end.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) Effective(DateTimeOffset from, DateTimeOffset to)
    {
        static DateTimeOffset Up(DateTimeOffset time) => MinuteOf(time) == time ? time : MinuteOf(time).AddMinutes(1);
        return (Up(from), Up(to));
    }

    /// <summary>The start of the UTC minute, hour or day that holds <paramref name="time"/>.</summary>
    public static DateTimeOffset BucketOf(DateTimeOffset time, StatsInterval interval)
    {
        var utc = time.UtcDateTime;
        return interval switch
        {
            StatsInterval.Minute => MinuteOf(time),
            StatsInterval.Hour => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero),
            _ => new DateTimeOffset(utc.Date, TimeSpan.Zero),
        };
    }

    public ExpectedSummary Summary(DateTimeOffset? from, DateTimeOffset? to)
    {
        var facts = In(from, to).ToList();
        var currencies = facts.Where(f => f.Kind is EventKind.Paid or EventKind.Refunded).Select(f => f.Currency).Distinct();
        return new ExpectedSummary(
            EventTypes.ToDictionary(t => t, t => (long)facts.Count(f => f.Type == t)),
            Statuses.ToDictionary(s => s, s => (long)facts.Count(f => f.Entered == s)),
            facts.Where(f => f.Kind == EventKind.Paid).Sum(f => f.Amount),
            facts.Where(f => f.Kind == EventKind.Refunded).Sum(f => f.Amount),
            facts.Count(f => f.Kind == EventKind.Paid),
            currencies.ToDictionary(c => c, c => (
                facts.Where(f => f.Kind == EventKind.Paid && f.Currency == c).Sum(f => f.Amount),
                facts.Where(f => f.Kind == EventKind.Refunded && f.Currency == c).Sum(f => f.Amount),
                (long)facts.Count(f => f.Kind == EventKind.Paid && f.Currency == c))),
            new Dictionary<string, double[]>
            {
                ["placedToPaid"] = Latencies(facts, EventKind.Paid),
                ["paidToShipped"] = Latencies(facts, EventKind.Shipped),
                ["shippedToDelivered"] = Latencies(facts, EventKind.Delivered),
            });
    }

    /// <summary>The UTC buckets that hold a minute of the range; each counts the minutes of the range it holds.</summary>
    public IReadOnlyList<ExpectedBucket> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval)
    {
        var step = Step(interval);
        var (first, end) = Effective(from, to);
        var buckets = new List<ExpectedBucket>();
        for (var start = BucketOf(first, interval); first < end && start < end; start += step)
        {
            var coveredFrom = start < first ? first : start;
            var coveredTo = start + step > end ? end : start + step;
            var facts = In(coveredFrom, coveredTo).ToList();
            long Entered(string status) => facts.Count(f => f.Entered == status);
            buckets.Add(new ExpectedBucket(
                start, Entered("placed"), Entered("paid"), Entered("shipped"), Entered("delivered"), Entered("cancelled"), Entered("refunded"),
                facts.Where(f => f.Kind == EventKind.Paid).Sum(f => f.Amount),
                facts.Where(f => f.Kind == EventKind.Refunded).Sum(f => f.Amount),
                coveredFrom != start || coveredTo != start + step, coveredFrom, coveredTo));
        }

        return buckets;
    }

    /// <summary>
    /// Lines of paid orders, all time; ordered by the chosen figure, then the other one, then SKU
    /// (ordinal), which is how StatisticsGrain.TopProducts breaks ties.
    /// </summary>
    public IReadOnlyList<ProductSales> TopProducts(int top, bool byQuantity)
    {
        var products = all.Where(f => f.Kind == EventKind.Paid)
            .SelectMany(f => f.Lines)
            .GroupBy(l => l.Sku)
            .Select(g => new ProductSales(g.Key, g.Sum(l => (long)l.Quantity), g.Sum(l => l.Amount)));
        var ordered = byQuantity
            ? products.OrderByDescending(p => p.Quantity).ThenByDescending(p => p.Revenue)
            : products.OrderByDescending(p => p.Revenue).ThenByDescending(p => p.Quantity);
        return [.. ordered.ThenBy(p => p.Sku, StringComparer.Ordinal).Take(top)];
    }

    public ExpectedCustomer? Customer(string customerId)
    {
        var facts = all.Where(f => f.CustomerId == customerId).ToList();
        if (facts.Count == 0)
        {
            return null;
        }

        var placed = facts.Where(f => f.Kind == EventKind.Placed).ToList();

        // order-velocity: an order placed when more than VelocityMaxOrders were placed within the window ending at it.
        var velocity = placed
            .Where(p => placed.Count(q => q.At > p.At - VelocityWindow && q.At <= p.At) > VelocityMaxOrders)
            .Select(p => p.OrderId).ToHashSet();

        // large-order: total over LargeOrderFactor × the average of the customer's orders placed strictly before it,
        // when there are at least LargeOrderMinHistory of those.
        var large = placed.Where(p =>
        {
            var earlier = placed.Where(q => q.At < p.At).ToList();
            return earlier.Count >= LargeOrderMinHistory && earlier.Sum(q => q.OrderTotal) > 0
                && p.OrderTotal > LargeOrderFactor * (earlier.Sum(q => q.OrderTotal) / earlier.Count);
        }).Select(p => p.OrderId).ToHashSet();

        // cancel-refund-ratio: orders that ended cancelled or fully refunded are at least half of all, with at least 4 orders.
        var badEndings = facts.Where(f => f.Entered is "cancelled" or "refunded").ToList();
        var badOrders = badEndings.Select(f => f.OrderId).Distinct().Count();
        var ratio = placed.Count >= CancelRefundMinOrders && badOrders * 2 >= placed.Count;

        var rules = new List<string>();
        if (velocity.Count > 0)
        {
            rules.Add(Velocity);
        }

        if (large.Count > 0)
        {
            rules.Add(LargeOrder);
        }

        if (ratio)
        {
            rules.Add(CancelRefundRatio);
        }

        rules.Sort(StringComparer.Ordinal);
        var score = Math.Min(100, (velocity.Count > 0 ? 40 : 0) + (large.Count > 0 ? 30 : 0) + (ratio ? 30 : 0));
        return new ExpectedCustomer(
            customerId,
            placed.Count,
            facts.Where(f => f.Kind == EventKind.Paid).Sum(f => f.Amount),
            facts.Count(f => f.Kind == EventKind.Cancelled),
            facts.Count(f => f.Kind == EventKind.Refunded),
            facts.Where(f => f.Kind == EventKind.Refunded).Sum(f => f.Amount),
            rules,
            score,
            velocity,
            large,
            ratio ? badEndings.Max(f => f.At) : null);
    }

    /// <summary>Orders whose latest status is <paramref name="status"/>, since they entered it; oldest first, then by id.</summary>
    public IReadOnlyList<StuckOrder> Stuck(OrderStatus status)
    {
        var name = status.ToString().ToLowerInvariant();
        return [.. all.GroupBy(f => f.OrderId)
            .Select(g => g.OrderBy(f => f.Version).ToList())
            .Where(events => events[^1].StatusAfter == name)
            .Select(events => new StuckOrder(events[0].OrderId, status, events.Last(f => f.Entered == name).At))
            .OrderBy(o => o.Since).ThenBy(o => o.OrderId, StringComparer.Ordinal)];
    }

    /// <summary>Exact nearest-rank percentile: the value at rank ceil(p × n), in exact integer arithmetic.</summary>
    public static double? NearestRank(double[] sorted, int percent)
    {
        if (sorted.Length == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (int)(((long)percent * sorted.Length + 99) / 100));
        return sorted[rank - 1];
    }

    public static TimeSpan Step(StatsInterval interval) => interval switch
    {
        StatsInterval.Minute => TimeSpan.FromMinutes(1),
        StatsInterval.Hour => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    private static double[] Latencies(IEnumerable<Fact> facts, EventKind kind) =>
        [.. facts.Where(f => f.Kind == kind && f.LatencySeconds is not null).Select(f => f.LatencySeconds!.Value).Order()];
}
