using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using OrderFlow.Orders;

namespace OrderFlow.Statistics.Tests.Model;

/// <summary>Reads every statistic, through the grain interface or over HTTP.</summary>
public interface IStatsReader
{
    Task<SummaryReport> Summary(DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken);

    Task<TimeSeriesReport> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval, CancellationToken cancellationToken);

    Task<IReadOnlyList<ProductSales>> TopProducts(int top, bool byQuantity, CancellationToken cancellationToken);

    Task<CustomerReport?> Customer(string customerId, CancellationToken cancellationToken);

    /// <summary>Every alert (no since, the largest limit).</summary>
    Task<IReadOnlyList<RiskAlert>> Alerts(CancellationToken cancellationToken);

    /// <summary>Every order in <paramref name="status"/> (olderThan zero, the largest limit).</summary>
    Task<IReadOnlyList<StuckOrder>> Stuck(OrderStatus status, CancellationToken cancellationToken);
}

/// <summary>Which queries a comparison makes.</summary>
public sealed record CheckPlan(
    IReadOnlyList<(DateTimeOffset? From, DateTimeOffset? To)> Summaries,
    IReadOnlyList<(DateTimeOffset From, DateTimeOffset To, StatsInterval Interval)> Series,
    IReadOnlyList<int> ProductTops);

/// <summary>How long the projections took to match the fold, how many comparisons that took, and how many differences the first one found.</summary>
public sealed record Convergence(TimeSpan Elapsed, int Polls, int FirstDifferences)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Elapsed.TotalSeconds:0.0} s ({Polls} comparisons, the first found {FirstDifferences} differences)");
}

/// <summary>Compares every statistic with the test's own fold, and waits for the write-behind projections to converge.</summary>
public static class StatsCheck
{
    /// <summary>README: percentiles within 1 % of the exact value, relative to 1 + seconds.</summary>
    public const double LatencyRelativeError = 0.01;

    /// <summary>
    /// The product rounds each percentile to the millisecond (LatencyHistogram.ValueOf), which can add up to
    /// 0.0005 s beyond the documented bound; the whole-scenario comparisons allow it, and
    /// <c>RiskAndLatencyTests</c> shows the documented bound itself being exceeded.
    /// </summary>
    public const double MillisecondRounding = 0.0005;

    public static readonly OrderStatus[] OpenStatuses = [OrderStatus.Placed, OrderStatus.Paid, OrderStatus.Shipped];

    public const string UnknownCustomer = "never-seen-customer";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static async Task<List<string>> DiffAsync(IStatsReader reader, Expected expected, CheckPlan plan, CancellationToken cancellationToken)
    {
        var diffs = new List<string>();
        foreach (var (from, to) in plan.Summaries)
        {
            var summary = await reader.Summary(from, to, cancellationToken);
            CompareSummary($"summary {Range(from, to)}", expected.Summary(from, to), summary, diffs);
            Equal($"summary {Range(from, to)}.from", from is { } f ? Expected.Effective(f, f).From : null, summary.From, diffs);
            Equal($"summary {Range(from, to)}.to", to is { } t ? Expected.Effective(t, t).To : null, summary.To, diffs);
        }

        foreach (var (from, to, interval) in plan.Series)
        {
            var series = await reader.TimeSeries(from, to, interval, cancellationToken);
            CompareSeries($"timeseries {interval} {Range(from, to)}", expected.TimeSeries(from, to, interval), series, interval, diffs);
            Equal($"timeseries {interval} {Range(from, to)}.range", Expected.Effective(from, to), (series.From, series.To), diffs);
        }

        foreach (var top in plan.ProductTops)
        {
            foreach (var byQuantity in new[] { false, true })
            {
                var label = $"products[top={top} by={(byQuantity ? "quantity" : "revenue")}]";
                var want = expected.TopProducts(top, byQuantity);
                var got = await reader.TopProducts(top, byQuantity, cancellationToken);
                if (!want.SequenceEqual(got, ProductComparer.Instance))
                {
                    diffs.Add($"{label}: expected {string.Join(", ", want.Select(Describe))}; actual {string.Join(", ", got.Select(Describe))}");
                }
            }
        }

        var reports = new Dictionary<string, CustomerReport?>();
        foreach (var customerId in expected.Customers)
        {
            var report = reports[customerId] = await reader.Customer(customerId, cancellationToken);
            CompareCustomer(expected.Customer(customerId)!, report, diffs);
        }

        if (await reader.Customer(UnknownCustomer, cancellationToken) is { } unknown)
        {
            diffs.Add($"customer[{UnknownCustomer}]: expected none, actual {unknown}");
        }

        foreach (var status in OpenStatuses)
        {
            var want = expected.Stuck(status);
            var got = await reader.Stuck(status, cancellationToken);
            if (!want.SequenceEqual(got))
            {
                var missing = want.Except(got).Take(5);
                var extra = got.Except(want).Take(5);
                diffs.Add($"stuck[{status}]: expected {want.Count} orders, actual {got.Count}; missing {string.Join(", ", missing)}; unexpected {string.Join(", ", extra)}"
                    + (want.Count == got.Count && !missing.Any() ? " (same orders, other order)" : string.Empty));
            }
        }

        CompareAlerts(expected, await reader.Alerts(cancellationToken), reports, diffs);
        return diffs;
    }

    /// <summary>Polls until every statistic equals the fold (the projections write behind by about a second), else fails with the differences.</summary>
    public static async Task<Convergence> AssertConvergesAsync(
        IStatsReader reader, Expected expected, CheckPlan plan, TimeSpan timeout, CancellationToken cancellationToken, string what = "statistics",
        Func<string>? diagnostics = null)
    {
        var watch = Stopwatch.StartNew();
        int? firstDiffs = null;
        for (var polls = 1; ; polls++)
        {
            var diffs = await DiffAsync(reader, expected, plan, cancellationToken);
            firstDiffs ??= diffs.Count;
            if (diffs.Count == 0)
            {
                return new Convergence(watch.Elapsed, polls, firstDiffs.Value);
            }

            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"The {what} did not converge to the test's fold within {timeout.TotalSeconds:0} s; {diffs.Count} differences:\n  "
                    + string.Join("\n  ", diffs.Take(40))
                    + (diagnostics is null ? string.Empty : "\nThe host logged:\n" + diagnostics()));
            }

            await Task.Delay(400, cancellationToken);
        }
    }

    /// <summary>Every statistic the plan reads, as canonical JSON: equal snapshots mean identical answers, figure for figure.</summary>
    public static async Task<string> SnapshotAsync(IStatsReader reader, IReadOnlyList<string> customers, CheckPlan plan, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        void Add(string label, object? value) =>
            text.Append(label).Append(" = ").Append(Canonical(JsonSerializer.SerializeToNode(value, Json))?.ToJsonString() ?? "null").Append('\n');

        foreach (var (from, to) in plan.Summaries)
        {
            Add($"summary {Range(from, to)}", await reader.Summary(from, to, cancellationToken));
        }

        foreach (var (from, to, interval) in plan.Series)
        {
            Add($"timeseries {interval} {Range(from, to)}", await reader.TimeSeries(from, to, interval, cancellationToken));
        }

        foreach (var top in plan.ProductTops)
        {
            Add($"products {top} revenue", await reader.TopProducts(top, false, cancellationToken));
            Add($"products {top} quantity", await reader.TopProducts(top, true, cancellationToken));
        }

        foreach (var customerId in customers)
        {
            Add($"customer {customerId}", await reader.Customer(customerId, cancellationToken));
        }

        foreach (var status in OpenStatuses)
        {
            Add($"stuck {status}", await reader.Stuck(status, cancellationToken));
        }

        Add("alerts", await reader.Alerts(cancellationToken));
        return text.ToString();
    }

    /// <summary>The first differing lines of two snapshots.</summary>
    public static string SnapshotDiff(string before, string after)
    {
        var a = before.Split('\n');
        var b = after.Split('\n');
        var lines = new List<string>();
        for (var i = 0; i < Math.Max(a.Length, b.Length) && lines.Count < 10; i++)
        {
            var left = i < a.Length ? a[i] : "(none)";
            var right = i < b.Length ? b[i] : "(none)";
            if (left != right)
            {
                lines.Add($"before: {Shorten(left)}\n  after:  {Shorten(right)}");
            }
        }

        return string.Join("\n  ", lines);
    }

    public static string Range(DateTimeOffset? from, DateTimeOffset? to) =>
        from is null && to is null ? "all time" : $"[{Time(from)}, {Time(to)})";

    public static string Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static bool LatencyWithin(double exact, double reported, double allowance = MillisecondRounding) =>
        Math.Abs(reported - exact) <= LatencyRelativeError * (1 + exact) + allowance + 1e-9;

    private static void CompareSummary(string label, ExpectedSummary want, SummaryReport got, List<string> diffs)
    {
        foreach (var type in Expected.EventTypes)
        {
            Equal($"{label}.events.{type}", want.Events[type], got.Events.TryGetValue(type, out var n) ? n : (long?)null, diffs);
        }

        foreach (var status in Expected.Statuses)
        {
            Equal($"{label}.orders.{status}", want.Orders[status], got.Orders.TryGetValue(status, out var n) ? n : (long?)null, diffs);
        }

        Equal($"{label}.revenue", want.Revenue, got.Revenue, diffs);
        Equal($"{label}.refunds", want.Refunds, got.Refunds, diffs);
        Equal($"{label}.netRevenue", want.Revenue - want.Refunds, got.NetRevenue, diffs);
        Average($"{label}.averageOrderValue", want.Revenue, want.Payments, got.AverageOrderValue, diffs);

        Funnel($"{label}.funnel.placedToPaid", want.Orders["paid"], want.Orders["placed"], got, "placedToPaid", diffs);
        Funnel($"{label}.funnel.paidToShipped", want.Orders["shipped"], want.Orders["paid"], got, "paidToShipped", diffs);
        Funnel($"{label}.funnel.shippedToDelivered", want.Orders["delivered"], want.Orders["shipped"], got, "shippedToDelivered", diffs);

        foreach (var stage in Expected.Stages)
        {
            var values = want.Latencies[stage];
            if (!got.Latency.TryGetValue(stage, out var latency))
            {
                diffs.Add($"{label}.latency.{stage}: missing");
                continue;
            }

            Equal($"{label}.latency.{stage}.count", values.Length, latency.Count, diffs);
            foreach (var (percent, exactReported) in new[] { (50, latency.P50), (95, latency.P95), (99, latency.P99) })
            {
                var reported = (double?)exactReported;
                var exact = Expected.NearestRank(values, percent);
                if (exact is null != reported is null || exact is { } e && !LatencyWithin(e, reported!.Value))
                {
                    diffs.Add($"{label}.latency.{stage}.p{percent}: exact {Show(exact)}, reported {Show(reported)} (allowed ±{(exact is { } x ? LatencyRelativeError * (1 + x) + MillisecondRounding : 0):0.######})");
                }

                if (exactReported is { } r && decimal.Round(r, 3) != r)
                {
                    diffs.Add($"{label}.latency.{stage}.p{percent}: {r} is not to the millisecond (floating-point tails print as such)");
                }
            }
        }

        var currencies = want.ByCurrency.Keys.Order(StringComparer.Ordinal).ToList();
        var reportedCurrencies = got.ByCurrency.Keys.Order(StringComparer.Ordinal).ToList();
        if (!currencies.SequenceEqual(reportedCurrencies))
        {
            diffs.Add($"{label}.byCurrency: expected currencies [{string.Join(", ", currencies)}], actual [{string.Join(", ", reportedCurrencies)}]");
        }

        foreach (var currency in currencies.Intersect(reportedCurrencies))
        {
            var (revenue, refunds, payments) = want.ByCurrency[currency];
            var totals = got.ByCurrency[currency];
            Equal($"{label}.byCurrency.{currency}.revenue", revenue, totals.Revenue, diffs);
            Equal($"{label}.byCurrency.{currency}.refunds", refunds, totals.Refunds, diffs);
            Equal($"{label}.byCurrency.{currency}.netRevenue", revenue - refunds, totals.NetRevenue, diffs);
            Equal($"{label}.byCurrency.{currency}.payments", payments, totals.Payments, diffs);
            Average($"{label}.byCurrency.{currency}.averageOrderValue", revenue, payments, totals.AverageOrderValue, diffs);
        }
    }

    private static void CompareSeries(string label, IReadOnlyList<ExpectedBucket> want, TimeSeriesReport got, StatsInterval interval, List<string> diffs)
    {
        Equal($"{label}.interval", interval, got.Interval, diffs);
        if (want.Count != got.Buckets.Count)
        {
            diffs.Add($"{label}: expected {want.Count} buckets, actual {got.Buckets.Count}");
            return;
        }

        for (var i = 0; i < want.Count; i++)
        {
            var w = want[i];
            var g = got.Buckets[i];
            var actual = new ExpectedBucket(g.Start, g.Placed, g.Paid, g.Shipped, g.Delivered, g.Cancelled, g.Refunded, g.Revenue, g.Refunds, g.Partial, g.From, g.To);
            if (w != actual)
            {
                diffs.Add($"{label}[{Time(w.Start)}]: expected {w}, actual {actual}");
            }
        }
    }

    private static void CompareCustomer(ExpectedCustomer want, CustomerReport? got, List<string> diffs)
    {
        var label = $"customer[{want.CustomerId}]";
        if (got is null)
        {
            diffs.Add($"{label}: expected a report, got none (404)");
            return;
        }

        Equal($"{label}.customerId", want.CustomerId, got.CustomerId, diffs);
        Equal($"{label}.orders", want.Orders, got.Orders, diffs);
        Equal($"{label}.spend", want.Spend, got.Spend, diffs);
        Equal($"{label}.cancellations", want.Cancellations, got.Cancellations, diffs);
        Equal($"{label}.refunds", want.Refunds, got.Refunds, diffs);
        Equal($"{label}.refundedAmount", want.RefundedAmount, got.RefundedAmount, diffs);
        Equal($"{label}.rules", string.Join(",", want.Rules), string.Join(",", got.Rules), diffs);
        Equal($"{label}.riskScore", want.RiskScore, got.RiskScore, diffs);
    }

    private static void CompareAlerts(Expected expected, IReadOnlyList<RiskAlert> alerts, Dictionary<string, CustomerReport?> reports, List<string> diffs)
    {
        foreach (var duplicate in alerts.GroupBy(a => a.Id).Where(g => g.Count() > 1))
        {
            diffs.Add($"alerts: id {duplicate.Key} appears {duplicate.Count()} times");
        }

        var placedAt = expected.Facts.Where(f => f.Kind == EventKind.Placed).ToDictionary(f => f.OrderId, f => f.At);
        var customers = expected.Customers.ToDictionary(c => c, c => expected.Customer(c)!);
        foreach (var alert in alerts)
        {
            if (!Expected.Rules.Contains(alert.Rule))
            {
                diffs.Add($"alerts: {alert.Id} has unknown rule '{alert.Rule}'");
                continue;
            }

            if (!customers.TryGetValue(alert.CustomerId, out var customer))
            {
                diffs.Add($"alerts: {alert.Id} is for unknown customer '{alert.CustomerId}'");
                continue;
            }

            if (!customer.Rules.Contains(alert.Rule))
            {
                diffs.Add($"alerts: {alert.Id} ({alert.Rule}) stands, but the rule does not hold for {alert.CustomerId}");
                continue;
            }

            switch (alert.Rule)
            {
                case Expected.Velocity when !customer.VelocityTriggers.Contains(alert.OrderId) || placedAt[alert.OrderId] != alert.RaisedAt:
                    diffs.Add($"alerts: {alert.Id} names order {alert.OrderId} at {Time(alert.RaisedAt)}, which is not an order that pushed {alert.CustomerId} over the velocity limit (those are {string.Join(", ", customer.VelocityTriggers)})");
                    break;
                case Expected.LargeOrder when !customer.LargeOrders.Contains(alert.OrderId) || placedAt[alert.OrderId] != alert.RaisedAt:
                    diffs.Add($"alerts: {alert.Id} names order {alert.OrderId} at {Time(alert.RaisedAt)}; large orders of {alert.CustomerId} are {string.Join(", ", customer.LargeOrders)}");
                    break;
                case Expected.CancelRefundRatio when alert.RaisedAt != customer.LatestBadEnding:
                    diffs.Add($"alerts: {alert.Id} raised at {Time(alert.RaisedAt)}, expected the latest cancellation/full refund of {alert.CustomerId} at {Time(customer.LatestBadEnding)}");
                    break;
            }
        }

        foreach (var customer in customers.Values)
        {
            var mine = alerts.Where(a => a.CustomerId == customer.CustomerId).ToList();
            var rules = mine.Select(a => a.Rule).Distinct().Order(StringComparer.Ordinal);
            if (!rules.SequenceEqual(customer.Rules))
            {
                diffs.Add($"alerts of {customer.CustomerId}: expected rules [{string.Join(", ", customer.Rules)}], the feed has [{string.Join(", ", rules)}]");
            }

            var large = mine.Where(a => a.Rule == Expected.LargeOrder).Select(a => a.OrderId).Order(StringComparer.Ordinal);
            if (!large.SequenceEqual(customer.LargeOrders.Order(StringComparer.Ordinal)))
            {
                diffs.Add($"alerts of {customer.CustomerId}: large-order alerts for [{string.Join(", ", large)}], expected one for each of [{string.Join(", ", customer.LargeOrders.Order(StringComparer.Ordinal))}]");
            }

            if (mine.Count(a => a.Rule == Expected.CancelRefundRatio) > 1)
            {
                diffs.Add($"alerts of {customer.CustomerId}: more than one cancel-refund-ratio alert");
            }

            if (reports.TryGetValue(customer.CustomerId, out var report) && report is not null
                && !report.Rules.Order(StringComparer.Ordinal).SequenceEqual(rules))
            {
                diffs.Add($"customer[{customer.CustomerId}].rules [{string.Join(", ", report.Rules)}] disagree with the alert feed [{string.Join(", ", rules)}]");
            }
        }
    }

    private static void Funnel(string label, long part, long whole, SummaryReport got, string key, List<string> diffs)
    {
        double? want = whole == 0 ? null : (double)part / whole;
        if (!got.Funnel.TryGetValue(key, out var actual))
        {
            diffs.Add($"{label}: missing");
        }
        else if (want is null != actual is null || want is { } w && Math.Abs(w - (double)actual!.Value) > 0.00005 + 1e-12)
        {
            diffs.Add($"{label}: expected {Show(want)} ({part}/{whole}), actual {Show((double?)actual)}");
        }
    }

    private static void Average(string label, decimal revenue, long payments, decimal? got, List<string> diffs)
    {
        // To the cent, halves away from zero (README "Statistics").
        decimal? want = payments == 0 ? null : decimal.Round(revenue / payments, 2, MidpointRounding.AwayFromZero);
        if (want != got)
        {
            diffs.Add($"{label}: expected {want?.ToString(CultureInfo.InvariantCulture) ?? "null"} ({revenue}/{payments}), actual {got?.ToString(CultureInfo.InvariantCulture) ?? "null"}");
        }
    }

    private static void Equal<T>(string label, T want, T got, List<string> diffs)
    {
        if (!EqualityComparer<T>.Default.Equals(want, got))
        {
            diffs.Add($"{label}: expected {want}, actual {got}");
        }
    }

    private static void Equal<T>(string label, T want, T? got, List<string> diffs)
        where T : struct
    {
        if (got is null || !EqualityComparer<T>.Default.Equals(want, got.Value))
        {
            diffs.Add($"{label}: expected {want}, actual {(got is null ? "(missing)" : got.Value.ToString())}");
        }
    }

    private static string Show(double? value) => value?.ToString("0.######", CultureInfo.InvariantCulture) ?? "null";

    private static string Describe(ProductSales p) => $"{p.Sku}({p.Quantity}, {p.Revenue.ToString(CultureInfo.InvariantCulture)})";

    private static string Shorten(string line) => line.Length > 600 ? line[..600] + "…" : line;

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value?.DeepClone())))),
        JsonArray array => new JsonArray([.. array.Select(item => Canonical(item?.DeepClone()))]),
        _ => node?.DeepClone(),
    };

    private sealed class ProductComparer : IEqualityComparer<ProductSales>
    {
        public static readonly ProductComparer Instance = new();

        public bool Equals(ProductSales? x, ProductSales? y) =>
            x is not null && y is not null && x.Sku == y.Sku && x.Quantity == y.Quantity && x.Revenue == y.Revenue;

        public int GetHashCode(ProductSales obj) => obj.Sku.GetHashCode(StringComparison.Ordinal);
    }
}
