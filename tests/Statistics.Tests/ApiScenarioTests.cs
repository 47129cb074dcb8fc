using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OrderFlow.Orders;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// A thousand orders with random lifecycles sent over the real HTTP API; every statistics route is
/// then compared with the ground truth computed from the commands the test sent.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ApiScenarioTests(StatsApiFixture fixture)
{
    private const int RandomOrders = 1000;

    [Fact]
    public async Task Every_statistics_route_matches_the_ground_truth_of_a_thousand_orders()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper;
        var host = fixture.Host;
        var day0 = TestClock.Day0;
        var seed = Environment.TickCount;
        output?.WriteLine($"seed {seed}, day0 {StatsCheck.Time(day0)}");
        var random = new Random(seed);
        var skus = Enumerable.Range(1, 20).Select(i => string.Create(CultureInfo.InvariantCulture, $"SKU-{i:D2}")).ToList();
        var customers = Enumerable.Range(1, 40).Select(i => string.Create(CultureInfo.InvariantCulture, $"cust-{i:D2}")).ToList();
        var generator = new ScenarioGenerator(random, skus);

        var plans = Enumerable.Range(1, RandomOrders).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"o-{i:D4}"),
            customers[random.Next(customers.Count)],
            random.Next(3) == 0 ? "USD" : "EUR",
            generator.AnyLifecycle(),
            generator.RandomTime(day0, TimeSpan.FromHours(56)))).ToList();

        // Deliberate risk: 7 orders within 5 minutes (velocity), a large order after 3 small ones, and 3 of 4 orders gone bad.
        plans.AddRange(Enumerable.Range(0, 7).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"burst-{i}"), "cust-burst", "EUR", i % 2 == 0 ? Lifecycle.Paid : Lifecycle.PlacedOnly,
            day0.AddHours(30).AddMinutes(17).AddSeconds(i * 50))));
        plans.AddRange(Enumerable.Range(0, 3).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"large-{i}"), "cust-large", "USD", Lifecycle.Delivered,
            day0.AddHours(2 + i), [new Line("SKU-01", 1, 10m)])));
        plans.Add(generator.Order("large-3", "cust-large", "USD", Lifecycle.Paid, day0.AddHours(20), [new Line("SKU-02", 5, 100m)]));
        plans.AddRange(new[] { Lifecycle.CancelledWhenPlaced, Lifecycle.CancelledWhenPaid, Lifecycle.FullRefund, Lifecycle.Delivered }
            .Select((lifecycle, i) => generator.Order(string.Create(CultureInfo.InvariantCulture, $"ratio-{i}"), "cust-ratio", "EUR", lifecycle, day0.AddHours(10 + i))));

        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(plans.OrderBy(_ => random.Next()).ToList(), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (plan, token) => await host.SendAsync(plan, token));
        var sent = watch.Elapsed;
        output?.WriteLine($"{plans.Count} orders, {plans.Sum(p => p.Steps.Count)} commands sent in {sent.TotalSeconds:0.0} s ({host.Retries} retried after 503 or 429)");

        // Ground truth from the commands, not from the log.
        var expected = new Expected(plans.SelectMany(p => p.Facts()));
        var check = new CheckPlan(
            [
                (null, null),
                (day0.AddHours(5).AddMinutes(13), day0.AddHours(29).AddMinutes(47)),
                (day0.AddHours(3), day0.AddHours(55).AddMinutes(30)),
                (day0.AddDays(1), day0.AddDays(2)),
                (day0.AddHours(50), day0.AddHours(50).AddMinutes(37)),
                (day0.AddHours(40), null),
                (null, day0.AddHours(20)),
                (day0.AddHours(7).AddMinutes(3).AddSeconds(20.5), day0.AddHours(31).AddMinutes(8).AddSeconds(59)), // issue 9: any alignment
            ],
            [
                (day0.AddHours(30), day0.AddHours(32), StatsInterval.Minute),
                (day0.AddDays(2).AddHours(-1), day0.AddDays(2).AddHours(1), StatsInterval.Minute),
                (day0.AddDays(1), day0.AddDays(2), StatsInterval.Hour),
                (day0, day0.AddDays(3), StatsInterval.Day),
                (day0.AddHours(5).AddMinutes(13).AddSeconds(17.25), day0.AddHours(29).AddMinutes(47).AddSeconds(3), StatsInterval.Hour), // issue 9: partial edges
                (day0.AddHours(7).AddMinutes(30), day0.AddDays(2).AddHours(3).AddMinutes(12).AddSeconds(30), StatsInterval.Day),
                (day0.AddHours(30).AddMinutes(5).AddSeconds(1), day0.AddHours(30).AddMinutes(50), StatsInterval.Hour), // within one bucket
                (day0.AddHours(30).AddMinutes(16).AddSeconds(40), day0.AddHours(30).AddMinutes(21).AddSeconds(10), StatsInterval.Minute),
            ],
            [10, 1000]);
        var settled = await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.FromSeconds(45), ct);
        output?.WriteLine($"{expected.Facts.Count} events; every route converged {settled} after the last command; "
            + $"{customers.Count + 3} customers, {expected.Customers.Count(c => expected.Customer(c)!.Rules.Count > 0)} with rules standing");

        // The deliberate risk cases, spelled out.
        var burst = await host.Reader.Customer("cust-burst", ct);
        Assert.Contains(Expected.Velocity, burst!.Rules);
        Assert.True(burst.RiskScore >= 40);
        var alerts = await host.Reader.Alerts(ct);
        Assert.Contains(alerts, a => a.CustomerId == "cust-burst" && a.Rule == Expected.Velocity);
        Assert.Contains(alerts, a => a.CustomerId == "cust-large" && a.Rule == Expected.LargeOrder && a.OrderId == "large-3");
        Assert.Contains(Expected.CancelRefundRatio, (await host.Reader.Customer("cust-ratio", ct))!.Rules);
        Assert.Equal(alerts.Count, alerts.Select(a => a.Id).Distinct().Count());
        Assert.All(alerts, a => Assert.Contains(a.Rule, Expected.Rules));

        // Alerts: oldest first; since keeps those raised at or after it; limit keeps the oldest.
        Assert.Equal(alerts.OrderBy(a => a.RaisedAt).Select(a => a.Id), alerts.Select(a => a.Id));
        var since = alerts[alerts.Count / 2].RaisedAt;
        var sinceText = since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        Assert.Equal(
            alerts.Where(a => a.RaisedAt >= since).Select(a => a.Id),
            (await host.Reader.GetAsync<AlertsBody>($"/api/alerts?since={sinceText}&limit=1000", ct)).Alerts.Select(a => a.Id));
        Assert.Equal(alerts.Take(2).Select(a => a.Id), (await host.Reader.GetAsync<AlertsBody>("/api/alerts?limit=2", ct)).Alerts.Select(a => a.Id));

        // Stuck orders: olderThan counts back from now; limit keeps the longest stuck.
        var stuck = expected.Stuck(OrderStatus.Placed);
        Assert.NotEmpty(await StuckOlderThanAsync(host.Reader, stuck, "&olderThan=PT30H", TimeSpan.FromHours(30), ct));
        await StuckOlderThanAsync(host.Reader, stuck, string.Empty, TimeSpan.FromHours(2), ct); // README: olderThan defaults to 2 hours
        Assert.Equal(stuck.Take(5), (await host.Reader.GetAsync<StuckBody>("/api/stats/stuck?status=placed&olderThan=PT0S&limit=5", ct)).Orders);
        output?.WriteLine("all-time summary: " + JsonSerializer.Serialize(await host.Reader.Summary(null, null, ct), StatsCheck.Json));

        // Defaults: top=10, by=revenue.
        Assert.Equal(
            JsonSerializer.Serialize(await host.Reader.TopProducts(10, false, ct)),
            JsonSerializer.Serialize((await host.Reader.GetAsync<ProductsBody>("/api/stats/products", ct)).Products));

        await AssertShapesAsync(host.Http, day0, ct);

        // A rebuild from the log changes nothing: every statistic, figure for figure.
        var before = await StatsCheck.SnapshotAsync(host.Reader, expected.Customers, check, ct);
        var rebuild = await RebuildTests.RebuildAsync(host, ct);
        Assert.Equal(expected.Facts.Count, rebuild.EventsProcessed);
        var after = await StatsCheck.SnapshotAsync(host.Reader, expected.Customers, check, ct);
        Assert.True(before == after, "The rebuild changed statistics:\n  " + StatsCheck.SnapshotDiff(before, after));
        output?.WriteLine($"rebuild of {rebuild.EventsProcessed} events took {(rebuild.CompletedAt - rebuild.StartedAt)?.TotalSeconds:0.0} s");
    }

    /// <summary>The placed orders stuck for at least <paramref name="age"/>: all of those, and only those, in the same order.</summary>
    private static async Task<IReadOnlyList<StuckOrder>> StuckOlderThanAsync(
        HttpStatsReader reader, IReadOnlyList<StuckOrder> stuck, string olderThan, TimeSpan age, CancellationToken ct)
    {
        var askedFrom = DateTimeOffset.UtcNow;
        var older = (await reader.GetAsync<StuckBody>($"/api/stats/stuck?status=placed{olderThan}&limit=1000", ct)).Orders;
        var askedUntil = DateTimeOffset.UtcNow;
        Assert.Equal(stuck.Where(o => older.Contains(o)), older); // a subsequence of all of them, in the same order
        Assert.All(stuck.Where(o => o.Since <= askedFrom - age), o => Assert.Contains(o, older));
        Assert.All(older, o => Assert.True(o.Since <= askedUntil - age, $"{o} has not been placed for {age}"));
        return older;
    }

    /// <summary>API.md "Statistics": the members of every answer, camelCase, times in ISO 8601 UTC.</summary>
    private static async Task AssertShapesAsync(HttpClient http, DateTimeOffset day0, CancellationToken ct)
    {
        var range = $"from={StatsCheck.Time(day0)}&to={StatsCheck.Time(day0.AddDays(1))}";
        var summary = await JsonAsync(http, "/api/stats/summary?" + range, ct);
        Members(summary, "from", "to", "events", "orders", "revenue", "refunds", "netRevenue", "averageOrderValue", "funnel", "latency");
        Members(summary.GetProperty("orders"), Expected.Statuses);
        Members(summary.GetProperty("events"), Expected.EventTypes);
        Members(summary.GetProperty("funnel"), Expected.Stages);
        Members(summary.GetProperty("latency"), Expected.Stages);
        foreach (var stage in Expected.Stages)
        {
            Members(summary.GetProperty("latency").GetProperty(stage), "p50", "p95", "p99");
        }

        Assert.Equal(StatsCheck.Time(day0), Utc(summary.GetProperty("from")));
        var series = await JsonAsync(http, $"/api/stats/timeseries?{range}&interval=hour", ct);
        Members(series, "interval", "buckets", "from", "to");
        Assert.Equal("hour", series.GetProperty("interval").GetString());
        Assert.Equal(24, series.GetProperty("buckets").GetArrayLength());
        foreach (var bucket in series.GetProperty("buckets").EnumerateArray())
        {
            Members(bucket, "start", "placed", "paid", "shipped", "delivered", "cancelled", "refunded", "revenue", "refunds", "partial", "from", "to");
            Utc(bucket.GetProperty("start"));
        }

        foreach (var product in (await JsonAsync(http, "/api/stats/products", ct)).GetProperty("products").EnumerateArray())
        {
            Members(product, "sku", "quantity", "revenue");
        }

        Members(await JsonAsync(http, "/api/stats/customers/cust-burst", ct), "customerId", "orders", "spend", "cancellations", "refunds", "riskScore", "rules");
        foreach (var alert in (await JsonAsync(http, "/api/alerts", ct)).GetProperty("alerts").EnumerateArray())
        {
            Members(alert, "id", "rule", "customerId", "orderId", "raisedAt", "detail");
            Utc(alert.GetProperty("raisedAt"));
        }

        foreach (var order in (await JsonAsync(http, "/api/stats/stuck?status=paid&olderThan=PT0S", ct)).GetProperty("orders").EnumerateArray())
        {
            Members(order, "orderId", "status", "since");
            Assert.Equal("paid", order.GetProperty("status").GetString());
            Utc(order.GetProperty("since"));
        }
    }

    private static async Task<JsonElement> JsonAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    private static void Members(JsonElement element, params string[] names)
    {
        Assert.Equal(JsonValueKind.Object, element.ValueKind);
        foreach (var name in names)
        {
            Assert.True(element.TryGetProperty(name, out _), $"Expected member '{name}' in {element}");
        }
    }

    private static string Utc(JsonElement time)
    {
        var text = time.GetString()!;
        Assert.EndsWith("Z", text, StringComparison.Ordinal);
        Assert.True(DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _), $"Not an ISO 8601 time: {text}");
        return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    private sealed record ProductsBody(IReadOnlyList<ProductSales> Products);

    private sealed record AlertsBody(IReadOnlyList<RiskAlert> Alerts);

    private sealed record StuckBody(IReadOnlyList<StuckOrder> Orders);
}
