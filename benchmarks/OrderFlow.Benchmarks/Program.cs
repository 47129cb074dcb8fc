using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using OrderFlow.Api;
using OrderFlow.Benchmarks;

// The benchmark harness (./bench.sh). Every figure is measured in this run, on this machine,
// against the same Azurite, and reported next to the baseline measured first: what storage alone
// does with requests shaped like the event log's. Ratios are what to compare between runs and
// machines; absolute numbers mostly measure the machine and Azurite (single-threaded).
// With BENCH_API_URL the system measured is one already running there (./bench.sh --silos N starts
// a cluster with run.sh), BENCH_TABLES being its storage; without it, the API host in this process.
// BENCH_RESULTS names a JSON file that receives the figures, for bench.sh to compare runs.
var connection = Environment.GetEnvironmentVariable("BENCH_TABLES")
    ?? throw new InvalidOperationException("BENCH_TABLES (an Azure Table Storage connection string) is not set; run ./bench.sh.");
var orders = IntSetting("BENCH_ORDERS", 600);
var concurrency = IntSetting("BENCH_CONCURRENCY", 16);
var externalApi = Environment.GetEnvironmentVariable("BENCH_API_URL") is { Length: > 0 } url ? new Uri(url) : null;
var resultsFile = Environment.GetEnvironmentVariable("BENCH_RESULTS");
var run = Guid.NewGuid().ToString("N")[..8];
Console.WriteLine($"OrderFlow benchmark: {orders} orders, {concurrency} concurrent requests, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, "
    + (externalApi is null ? "the API with its co-hosted silo in this process" : $"the system at {externalApi}"));

var results = new List<Measurement>();

// Baselines: the storage requests an order command costs, sent directly.
var baselineTable = new TableClient(connection, "benchbase" + run);
await baselineTable.CreateIfNotExistsAsync();
var baseline = await Measurement.RunAsync("storage: one-row transaction (an append)", orders, concurrency, i =>
    baselineTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("append-" + I(i), "0000000001"))]));
results.Add(baseline);
results.Add(await Measurement.RunAsync("storage: upsert, then one-row transaction (announced append)", orders, concurrency, async i =>
{
    await baselineTable.UpsertEntityAsync(Row("announce", "order-" + I(i)), TableUpdateMode.Replace);
    await baselineTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("announced-" + I(i), "0000000001"))]);
}));

// The system: the real API host with its co-hosted silo, over HTTP (or the one at BENCH_API_URL).
WebApplication? app = null;
var baseAddress = externalApi;
if (baseAddress is null)
{
    var port = FreePort();
    var settings = new Dictionary<string, string?>
    {
        ["ConnectionStrings:Tables"] = connection,
        ["Orleans:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
        ["Orleans:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
        ["Orleans:ClusterId"] = "bench-" + run,
        ["Orleans:ServiceId"] = "bench-" + run,
        ["EventStore:TableName"] = "benchevents" + run,
        ["Statistics:TableName"] = "benchstats" + run,
        ["Dashboard:Enabled"] = "false",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Orleans"] = "Error",
    };
    app = ApiApplication.Build(
        [$"--urls=http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--environment=Development"],
        builder => builder.Configuration.AddInMemoryCollection(settings));
    await app.StartAsync();
    baseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
}

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency * 2 })
{
    BaseAddress = baseAddress,
    Timeout = TimeSpan.FromSeconds(60),
};

var day = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1);
string OrderId(int i) => $"bench-{run}-{I(i)}";
DateTimeOffset At(int i, int step) => day.AddSeconds(i * 7 + step * 600);

// Warm-up: tables created, connections opened, grain types loaded.
for (var i = 0; i < 20; i++)
{
    await Send(HttpMethod.Post, "/api/orders", Place($"warm-{run}-{I(i)}", day.AddHours(-1)), HttpStatusCode.Created);
}

results.Add(await Measurement.RunAsync("POST /api/orders (place)", orders, concurrency, i =>
    Send(HttpMethod.Post, "/api/orders", Place(OrderId(i), At(i, 0)), HttpStatusCode.Created)));
results.Add(await Measurement.RunAsync("POST /api/orders/{id}/payments", orders, concurrency, i =>
    Send(HttpMethod.Post, $"/api/orders/{OrderId(i)}/payments", new { paymentId = "pay-" + I(i), amount = 30.00m, method = "card", occurredAt = At(i, 1) }, HttpStatusCode.OK)));
results.Add(await Measurement.RunAsync("POST /api/orders/{id}/shipment", orders, concurrency, i =>
    Send(HttpMethod.Post, $"/api/orders/{OrderId(i)}/shipment", new { carrier = "DHL", trackingNumber = "T" + I(i), occurredAt = At(i, 2) }, HttpStatusCode.OK)));
var lastCommand = Stopwatch.StartNew();

// Projections: how long after the last command the summary counts every event.
var expectedShipped = orders;
var converged = await WaitAsync(TimeSpan.FromSeconds(120), async () =>
{
    var summary = await http.GetFromJsonAsync<JsonElement>($"/api/stats/summary?from={day:yyyy-MM-ddTHH:mm}Z&to={day.AddDays(1):yyyy-MM-ddTHH:mm}Z");
    return summary.GetProperty("orders").GetProperty("shipped").GetInt64() >= expectedShipped;
});
var convergence = lastCommand.Elapsed;

results.Add(await Measurement.RunAsync("GET /api/orders/{id}", orders, concurrency, i =>
    Send(HttpMethod.Get, $"/api/orders/{OrderId(i)}", null, HttpStatusCode.OK)));
results.Add(await Measurement.RunAsync("GET /api/orders/{id}/events", orders, concurrency, i =>
    Send(HttpMethod.Get, $"/api/orders/{OrderId(i)}/events", null, HttpStatusCode.OK)));

// Rebuild: the whole log into a new generation.
var rebuildWatch = Stopwatch.StartNew();
using var started = await http.PostAsync("/api/admin/projections/rebuild", null);
var location = started.Headers.Location?.ToString() ?? throw new InvalidOperationException($"POST rebuild answered {(int)started.StatusCode}.");
JsonElement status = default;
await WaitAsync(TimeSpan.FromMinutes(10), async () =>
{
    status = await http.GetFromJsonAsync<JsonElement>(location);
    return status.GetProperty("state").GetString() != "running";
});
var rebuildElapsed = rebuildWatch.Elapsed;
var rebuilt = status.GetProperty("eventsProcessed").GetInt64();

if (app is not null)
{
    await app.StopAsync();
    await app.DisposeAsync();
}

Console.WriteLine();
Console.WriteLine("| scenario | operations | per second | p50 ms | p95 ms | p99 ms | × baseline |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var result in results)
{
    Console.WriteLine(result.Row(baseline.PerSecond));
}

Console.WriteLine();
Console.WriteLine(converged
    ? string.Create(CultureInfo.InvariantCulture, $"Statistics counted every event {convergence.TotalSeconds:0.0} s after the last command.")
    : "Statistics did NOT count every event within 120 s of the last command.");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Rebuild: {status.GetProperty("state").GetString()}, {rebuilt} events in {rebuildElapsed.TotalSeconds:0.0} s ({rebuilt / rebuildElapsed.TotalSeconds:0} events/s; {rebuilt / rebuildElapsed.TotalSeconds / baseline.PerSecond:0.00} × baseline)."));
if (resultsFile is not null)
{
    await File.WriteAllTextAsync(resultsFile, JsonSerializer.Serialize(new
    {
        scenarios = results.Select(r => new { name = r.Scenario, perSecond = r.PerSecond, p50 = r.Percentile(50), p99 = r.Percentile(99) }),
        convergenceSeconds = converged ? convergence.TotalSeconds : (double?)null,
        rebuildEventsPerSecond = rebuilt / rebuildElapsed.TotalSeconds,
    }));
}

return converged && status.GetProperty("state").GetString() == "completed" ? 0 : 1;

async Task Send(HttpMethod method, string path, object? body, HttpStatusCode expected)
{
    using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
    using var response = await http.SendAsync(request);
    if (response.StatusCode != expected)
    {
        throw new InvalidOperationException($"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}

static object Place(string orderId, DateTimeOffset at) => new
{
    orderId,
    customerId = "customer-" + (orderId.GetHashCode() & 63).ToString(CultureInfo.InvariantCulture),
    currency = "EUR",
    items = new[] { new { sku = "SKU-1", quantity = 2, unitPrice = 10.00m }, new { sku = "SKU-2", quantity = 1, unitPrice = 10.00m } },
    occurredAt = at,
};

static TableEntity Row(string partition, string row) => new(partition, row)
{
    ["EventId"] = Guid.NewGuid(),
    ["Type"] = "OrderPlaced",
    ["SchemaVersion"] = 1,
    ["OccurredAt"] = DateTimeOffset.UtcNow,
    ["Data"] = new string('x', 300),
};

static async Task<bool> WaitAsync(TimeSpan timeout, Func<Task<bool>> condition)
{
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed < timeout)
    {
        if (await condition())
        {
            return true;
        }

        await Task.Delay(100);
    }

    return false;
}

static string I(int i) => i.ToString("D6", CultureInfo.InvariantCulture);

static int IntSetting(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}
