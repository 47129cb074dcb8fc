using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrderFlow.Api;
using OrderFlow.Benchmarks;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Silo;
using Orleans.Runtime;

// The benchmark harness (./bench.sh). Every figure is measured in this run, on this machine,
// against the same Azurite, and reported next to the baseline measured first: what storage alone
// does with requests shaped like the event log's. Ratios are what to compare between runs and
// machines; absolute numbers mostly measure the machine and Azurite (single-threaded).
// With BENCH_API_URL the system measured is one already running there (./bench.sh --silos N starts
// a cluster with run.sh), BENCH_TABLES being its storage; without it, the API host in this process,
// whose storage clients count their requests (StorageRequestCounter) and whose grains the
// history, cold-read and peer scenarios reach directly.
// BENCH_RESULTS names a JSON file that receives the figures, for bench.sh to compare runs;
// BENCH_RESULTS_JSON the flat name → { value, unit } file (artifacts/bench/results.json).
var connection = Environment.GetEnvironmentVariable("BENCH_TABLES")
    ?? throw new InvalidOperationException("BENCH_TABLES (an Azure Table Storage connection string) is not set; run ./bench.sh.");
var quick = Environment.GetEnvironmentVariable("BENCH_QUICK") == "1";
var orders = IntSetting("BENCH_ORDERS", quick ? 150 : 600);
var concurrency = IntSetting("BENCH_CONCURRENCY", 16);
const int HighConcurrency = 64;
var sustained = TimeSpan.FromSeconds(IntSetting("BENCH_SUSTAINED_SECONDS", 0));
var lagSeconds = IntSetting("BENCH_LAG_SECONDS", quick ? 6 : 30);
var lagRate = IntSetting("BENCH_LAG_RATE", 50);
var sustainedRate = IntSetting("BENCH_SUSTAINED_RATE", 0); // 0: 80 % of the maximum measured
var externalApi = Environment.GetEnvironmentVariable("BENCH_API_URL") is { Length: > 0 } url ? new Uri(url) : null;
var resultsFile = Environment.GetEnvironmentVariable("BENCH_RESULTS");
var flatResultsFile = Environment.GetEnvironmentVariable("BENCH_RESULTS_JSON");
var run = Guid.NewGuid().ToString("N")[..8];
Console.WriteLine($"OrderFlow benchmark{(quick ? " (--quick)" : "")}: {orders} orders, {concurrency} and {HighConcurrency} concurrent requests, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, "
    + (externalApi is null ? "the API with its co-hosted silo in this process" : $"the system at {externalApi}")
    + $"; {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, gen0 budget up to "
    + (GC.GetConfigurationVariables().TryGetValue("GCGen0MaxBudget", out var gen0) ? $"{Convert.ToInt64(gen0, CultureInfo.InvariantCulture) / 1048576.0:0.#} MiB" : "(not reported)")
    + $" (DOTNET_GCgen0size={Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "unset"})");

var results = new List<Measurement>();
var figures = new BenchResults();
var processorTime = ProcessorTime.FromEnvironment();
var processorSplits = new Dictionary<string, ProcessorTime.Split>(StringComparer.Ordinal);
StorageRequestCounter? storageRequests = null;
async Task<Measurement> Measure(string key, string scenario, int count, int inFlight, Func<int, Task> operation)
{
    var before = processorTime.Now();
    var requestsBefore = storageRequests?.Total;
    var measurement = await Measurement.RunAsync(scenario, count, inFlight, operation);
    var split = processorTime.Now().Since(before, count);
    processorSplits[key] = split;
    split.AddTo(figures, key);
    if (storageRequests is not null && requestsBefore is not null)
    {
        // Sent while the scenario ran: its own requests and whatever else ran meanwhile (statistics flushes, reconciliation).
        figures.Add($"storage_requests.{key}.per_op", (double)(storageRequests.Total - requestsBefore.Value) / count, "requests");
    }

    results.Add(measurement);
    figures.Add(key, measurement);
    var baselineSoFar = results.LastOrDefault(r => r.Scenario.StartsWith("storage: one-row", StringComparison.Ordinal) && r.Scenario.Contains("64 in flight", StringComparison.Ordinal) == (inFlight == HighConcurrency)) ?? results[0];
    Console.WriteLine($"  {measurement.Row(baselineSoFar.PerSecond)}");
    Console.WriteLine($"    {split}");
    return measurement;
}

await using var memory = new ResidentMemory();

// Baselines: the storage requests an order command costs, sent directly.
var baselineTable = new TableClient(connection, "benchbase" + run);
await baselineTable.CreateIfNotExistsAsync();

// Warmed first, unmeasured: as the process's first work, the baseline would also time the SDK's
// code being compiled and its connections opened, and every ratio to it would read high.
await Measurement.RunAsync("storage: warm-up", Math.Min(orders, 200), concurrency, i =>
    baselineTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("warm-" + I(i), "0000000001"))]));
var baseline = await Measure("storage.one_row_transaction.c16", "storage: one-row transaction (an append)", orders, concurrency, i =>
    baselineTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("append-" + I(i), "0000000001"))]));
await Measure("storage.upsert_then_transaction.c16", "storage: upsert, then one-row transaction (announced append)", orders, concurrency, async i =>
{
    await baselineTable.UpsertEntityAsync(Row("announce", "order-" + I(i)), TableUpdateMode.Replace);
    await baselineTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("announced-" + I(i), "0000000001"))]);
});

// The system: the real API host with its co-hosted silo, over HTTP (or the one at BENCH_API_URL).
// Reconciliation settles after 5 s (default 60 s), so that its cost per command is counted within
// the run; it reads the same change rows either way. The change buckets keep their default width,
// which decides how many change rows an order's commands write.
WebApplication? app = null;
var baseAddress = externalApi;
if (baseAddress is null)
{
    storageRequests = new StorageRequestCounter();
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
        ["Statistics:Reconciliation:Settle"] = "00:00:05",
        ["RateLimiting:Commands:PermitsPerSecond"] = "1000000",
        ["RateLimiting:Commands:Burst"] = "1000000",
        ["Dashboard:Enabled"] = "false",
        ["Logging:LogLevel:Default"] = "Error", // 503s under overload are counted, not logged
        ["Logging:LogLevel:Orleans"] = "Error",
    };
    app = ApiApplication.Build(
        [$"--urls=http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--environment=Development"],
        builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddSingleton(new StorageClientPolicy(storageRequests));
            builder.UseOrleans(silo => silo.AddPeerJournalProviders(new TableServiceClient(connection), "benchpeers" + run));
        });
    await app.StartAsync();
    baseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
}

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = HighConcurrency * 2 })
{
    BaseAddress = baseAddress,
    Timeout = TimeSpan.FromSeconds(60),
};

var day = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1);
string OrderId(string prefix, int i) => $"{prefix}-{run}-{I(i)}";
DateTimeOffset At(int i, int step) => day.AddSeconds(i * 7 + step * 600);

// Warm-up: tables created, connections opened, grain types loaded.
for (var i = 0; i < 20; i++)
{
    await Send(HttpMethod.Post, "/api/orders", Place($"warm-{run}-{I(i)}", day.AddHours(-1)), HttpStatusCode.Created);
}

// Idle: what the system asks of storage with nothing to do (reconciliation passes, the rollback
// watch, statistics timers), measured after the warm-up's effects have settled.
double? idlePerSecond = null;
if (storageRequests is not null)
{
    // Idle once start-up's requests (tables, the projection control, the first passes) are over: a
    // machine under load takes longer to start, which a fixed wait would count as the idle rate.
    await Task.Delay(TimeSpan.FromSeconds(quick ? 5 : 30));
    for (var settling = Stopwatch.StartNew(); settling.Elapsed < TimeSpan.FromSeconds(60);)
    {
        var before = storageRequests.Total;
        await Task.Delay(TimeSpan.FromSeconds(2));
        if (storageRequests.Total - before <= 3) // the rollback watch's beat (1/s) and a reconciliation pass
        {
            break;
        }
    }

    var idleStart = storageRequests.Total;
    var idleTargets = storageRequests.ByTarget();
    var idleWatch = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(quick ? 8 : 30));
    idlePerSecond = (storageRequests.Total - idleStart) / idleWatch.Elapsed.TotalSeconds;
    figures.Add("storage_requests.idle_per_second", idlePerSecond.Value, "1/s");
    var idleBy = storageRequests.ByTarget()
        .Select(pair => (Target: pair.Key.Replace(run, "", StringComparison.Ordinal), Count: pair.Value - idleTargets.GetValueOrDefault(pair.Key)))
        .Where(pair => pair.Count > 0)
        .OrderByDescending(pair => pair.Count)
        .Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Target} {pair.Count / idleWatch.Elapsed.TotalSeconds:0.00}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  idle: {idlePerSecond:0.00} storage requests/s ({string.Join(", ", idleBy)})"));
}

// The standard mix: each order placed, paid and shipped, 16 in flight.
var mixStart = storageRequests?.Total ?? 0;
var mixTargetsStart = storageRequests?.ByTarget();
var mixWatch = Stopwatch.StartNew();
await Measure("api.place.c16", "POST /api/orders (place)", orders, concurrency, i =>
    Send(HttpMethod.Post, "/api/orders", Place(OrderId("bench", i), At(i, 0)), HttpStatusCode.Created));
await Measure("api.pay.c16", "POST /api/orders/{id}/payments", orders, concurrency, i =>
    Send(HttpMethod.Post, $"/api/orders/{OrderId("bench", i)}/payments", Payment(i, At(i, 1)), HttpStatusCode.OK));
var ship16 = await Measure("api.ship.c16", "POST /api/orders/{id}/shipment", orders, concurrency, i =>
    Send(HttpMethod.Post, $"/api/orders/{OrderId("bench", i)}/shipment", Shipment(i, At(i, 2)), HttpStatusCode.OK));
var lastCommand = Stopwatch.StartNew();

// Projections: how long after the last command the summary counts every event.
// A failed placement fails its order's payment and shipment too: the shipments that failed are the orders not shipped.
var converged = await WaitAsync(TimeSpan.FromSeconds(120), () => DayCountsShippedAsync(orders - ship16.Failures));
var convergence = lastCommand.Elapsed;
if (converged)
{
    figures.Add("statistics.convergence_after_last_command", convergence.TotalSeconds, "s");
}

// Storage requests per command of the mix: everything sent from its first command until
// reconciliation has passed over its last change bucket (the bucket's end, the settle time, an
// interval and a margin), less what the idle system sends in as long.
double? requestsPerCommand = null;
if (storageRequests is not null && idlePerSecond is { } idle)
{
    var now = DateTimeOffset.UtcNow;
    var bucketEnd = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(1);
    var reconciled = bucketEnd + TimeSpan.FromSeconds(5 + 10 + 3) - now;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  waiting {reconciled.TotalSeconds:0} s for reconciliation to pass over the mix's last change bucket..."));
    await Task.Delay(reconciled);

    // And until the change index is empty (read by a client of this benchmark's, not counted): a
    // bucket of more rows than a pass takes needs several passes, whose removals belong to the mix.
    var changeRows = new TableClient(connection, "benchevents" + run + "changes");
    if (!await WaitAsync(TimeSpan.FromSeconds(60), async () =>
        {
            await foreach (var _ in changeRows.QueryAsync<TableEntity>(maxPerPage: 1, select: ["PartitionKey"]))
            {
                return false;
            }

            return true;
        }))
    {
        Console.WriteLine("  the change index still holds rows 60 s later: the count leaves out the rest of the reconciliation");
    }

    var sent = storageRequests.Total - mixStart;
    var window = mixWatch.Elapsed.TotalSeconds;
    var commands = results.Where(r => r.Scenario.StartsWith("POST", StringComparison.Ordinal)).Sum(r => r.Operations - r.Failures);
    requestsPerCommand = (sent - idle * window) / commands;
    figures.Add("storage_requests.per_command.mix", requestsPerCommand.Value, "requests");
    figures.Add("storage_requests.per_command.mix_raw", (double)sent / commands, "requests");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  storage requests of the mix ({commands} commands, {window:0} s with reconciliation): {sent}, {requestsPerCommand:0.00} per command after the idle rate"));
    var after = storageRequests.ByTarget();
    foreach (var (target, count) in after.OrderByDescending(p => p.Value))
    {
        var delta = count - (mixTargetsStart!.TryGetValue(target, out var earlier) ? earlier : 0);
        if (delta > 0)
        {
            var name = target.Replace(run, "", StringComparison.Ordinal);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {name}: {delta} ({(double)delta / commands:0.00} per command)"));
            figures.Add("storage_requests.per_command.mix." + name.Replace(' ', '.').ToLowerInvariant(), (double)delta / commands, "requests");
        }
    }
}

await Measure("api.get_order.c16", "GET /api/orders/{id}", orders, concurrency, i =>
    Send(HttpMethod.Get, $"/api/orders/{OrderId("bench", i)}", null, HttpStatusCode.OK));
await Measure("api.get_events.c16", "GET /api/orders/{id}/events", orders, concurrency, i =>
    Send(HttpMethod.Get, $"/api/orders/{OrderId("bench", i)}/events", null, HttpStatusCode.OK));

// 64 in flight: the same commands against a baseline at 64.
var baseline64 = await Measure("storage.one_row_transaction.c64", "storage: one-row transaction, 64 in flight", orders, HighConcurrency, i =>
    baselineTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("append64-" + I(i), "0000000001"))]));
var warmMixStart = storageRequests?.Total;
var warmMixWatch = Stopwatch.StartNew();
var place64 = await Measure("api.place.c64", "POST /api/orders (place), 64 in flight", orders, HighConcurrency, i =>
    Send(HttpMethod.Post, "/api/orders", Place(OrderId("bench64", i), At(i, 0)), HttpStatusCode.Created));
var pay64 = await Measure("api.pay.c64", "POST …/payments, 64 in flight", orders, HighConcurrency, i =>
    Send(HttpMethod.Post, $"/api/orders/{OrderId("bench64", i)}/payments", Payment(i, At(i, 1)), HttpStatusCode.OK));
var ship64 = await Measure("api.ship.c64", "POST …/shipment, 64 in flight", orders, HighConcurrency, i =>
    Send(HttpMethod.Post, $"/api/orders/{OrderId("bench64", i)}/shipment", Shipment(i, At(i, 2)), HttpStatusCode.OK));

// The same mix at 64 in flight counts what a running system pays per command: the statistics
// grains it touches (its customers, the stuck-order partitions, the day) are already active, so
// none reads its state, and more announcements share a request. Counted until the summary counts
// its last shipment and a flush interval has passed since (the reconciliation's removal of its
// change rows, a request or two per minute, comes later and is left out); the idle rate is
// subtracted as above.
double? warmPerCommand = null;
if (storageRequests is not null && warmMixStart is not null && idlePerSecond is { } idleRate)
{
    var shipped = orders - ship16.Failures + orders - ship64.Failures;
    await WaitAsync(TimeSpan.FromSeconds(60), () => DayCountsShippedAsync(shipped));
    await Task.Delay(TimeSpan.FromSeconds(1.5)); // the flush of what was counted last (Statistics:FlushInterval, 1 s)
    var warmCommands = new[] { place64, pay64, ship64 }.Sum(m => m.Operations - m.Failures);
    warmPerCommand = (storageRequests.Total - warmMixStart.Value - idleRate * warmMixWatch.Elapsed.TotalSeconds) / warmCommands;
    figures.Add("storage_requests.per_command.mix_c64_warm", warmPerCommand.Value, "requests");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  storage requests of the mix at 64 in flight, its statistics grains active ({warmCommands} commands): {warmPerCommand:0.00} per command after the idle rate"));
}

// Statistics lag: answer → counted in /api/stats/summary, at a fixed offered rate and at the most
// the system does with 64 orders in flight.
var fixedLag = await MeasureLag("fixed", lagRate, TimeSpan.FromSeconds(lagSeconds));
ReportLag("statistics.lag.fixed_rate", $"offered {lagRate} commands/s", fixedLag);
var maxLag = await MeasureLag("max", null, TimeSpan.FromSeconds(lagSeconds));
ReportLag("statistics.lag.max_rate", "at the maximum, 64 orders in flight", maxLag);

// History: appends and cold first reads on orders of 10, 1,000 and 10,000 events, interleaved,
// beside Orleans' own JournaledGrain providers doing the same appends (in this process only: the
// cold reads collect every activation through the management grain).
int[] historyLengths = quick ? [10, 300] : [10, 1_000, 10_000];
const string Ours = "OrderFlow (HTTP)";
HistoryScenario? history = null;
if (app is not null)
{
    var grains = app.Services.GetRequiredService<IGrainFactory>();
    string HistoryOrder(int n) => OrderId("history", n);
    IPeerJournalGrain Peer(string grainClass, int n) =>
        grains.GetGrain<IPeerJournalGrain>(run + "-" + n.ToString(CultureInfo.InvariantCulture), "OrderFlow.Benchmarks." + grainClass);
    var subjects = new List<HistoryScenario.Subject>
    {
        new(Ours,
            async n =>
            {
                // Placed, paid, shipped and delivered (4 events), then refunded a cent at a time.
                var id = HistoryOrder(n);
                await Send(HttpMethod.Post, "/api/orders", new { orderId = id, customerId = "customer-history", currency = "EUR", items = new[] { new { sku = "SKU-H", quantity = 1, unitPrice = 1000.00m } } }, HttpStatusCode.Created);
                await Send(HttpMethod.Post, $"/api/orders/{id}/payments", new { paymentId = "pay-" + id, amount = 1000.00m, method = "card" }, HttpStatusCode.OK);
                await Send(HttpMethod.Post, $"/api/orders/{id}/shipment", new { carrier = "DHL", trackingNumber = "T-" + id }, HttpStatusCode.OK);
                await Send(HttpMethod.Post, $"/api/orders/{id}/delivery", null, HttpStatusCode.OK);
                return 4;
            },
            (n, refundId) => Send(HttpMethod.Post, $"/api/orders/{HistoryOrder(n)}/refunds", new { refundId, amount = 0.01m, reason = "bench" }, HttpStatusCode.OK),
            n => Send(HttpMethod.Get, $"/api/orders/{HistoryOrder(n)}", null, HttpStatusCode.OK)),
        new("OrderFlow (grain call)",
            _ => Task.FromResult(0),
            async (n, refundId) =>
            {
                var result = await grains.GetGrain<IOrderGrain>(HistoryOrder(n)).Execute(new RefundOrder(refundId, 0.01m, "bench"), CommandMetadata.None);
                if (result.Error is { } error)
                {
                    throw new InvalidOperationException($"refund refused: {error.Code} {error.Detail}");
                }
            },
            ColdRead: null,
            FillsOwnEntities: false),
        new("JournaledGrain LogStorage",
            _ => Task.FromResult(0),
            (n, refundId) => Peer(nameof(LogStoragePeerGrain), n).Append(refundId, 0.01m),
            n => Peer(nameof(LogStoragePeerGrain), n).Version(),
            FillConcurrency: 1),
        new("JournaledGrain StateStorage",
            _ => Task.FromResult(0),
            (n, refundId) => Peer(nameof(StateStoragePeerGrain), n).Append(refundId, 0.01m),
            n => Peer(nameof(StateStoragePeerGrain), n).Version(),
            FillConcurrency: 1),
    };
    history = new HistoryScenario(historyLengths, quick ? 10 : 60, quick ? 3 : 8,
        () => grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero));
    await history.RunAsync(subjects);
    history.Report(subjects, figures);
}

// Rebuild: the whole log into a new generation.
var rebuildWatch = Stopwatch.StartNew();
var rebuildProcessor = processorTime.Now();
var rebuildRequests = storageRequests?.Total;
using var started = await http.PostAsync("/api/admin/projections/rebuild", null);
var location = started.Headers.Location?.ToString() ?? throw new InvalidOperationException($"POST rebuild answered {(int)started.StatusCode}.");
JsonElement status = default;
await WaitAsync(TimeSpan.FromMinutes(10), async () =>
{
    if (await GetJsonOrNull(location) is not { } answer)
    {
        return false;
    }

    status = answer;
    return status.GetProperty("state").GetString() != "running";
});
var rebuildElapsed = rebuildWatch.Elapsed;
var rebuildState = status.ValueKind == JsonValueKind.Object ? status.GetProperty("state").GetString() : "not answered";
var rebuilt = status.ValueKind == JsonValueKind.Object ? status.GetProperty("eventsProcessed").GetInt64() : 0;

// Only a rebuild that completed has a rate: one that failed, or still runs, is not measured.
double? rebuildPerSecond = rebuildState == "completed" ? rebuilt / rebuildElapsed.TotalSeconds : null;
if (rebuildPerSecond is { } rebuildRate)
{
    figures.Add("rebuild.events_per_second", rebuildRate, "events/s");
}

figures.Add("rebuild.events", rebuilt, "events");

// Whether the rebuild waits for Azurite (one thread) or for this process, per event.
var rebuildSplit = processorTime.Now().Since(rebuildProcessor, (int)Math.Max(1, rebuilt));
rebuildSplit.AddTo(figures, "rebuild");
Console.WriteLine($"  rebuild: {rebuilt} events; {rebuildSplit}");
if (storageRequests is not null && rebuildRequests is not null)
{
    var rebuildRequestsPerEvent = (double)(storageRequests.Total - rebuildRequests.Value) / Math.Max(1, rebuilt);
    figures.Add("storage_requests.rebuild.per_event", rebuildRequestsPerEvent, "requests");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    storage requests: {rebuildRequestsPerEvent:0.000} per event"));
}

// Sustained: 80 % of the maximum rate just measured, lag and resident memory per minute.
LagResult? sustainedLag = null;
double? rssGrowthLastHalf = null;
if (sustained > TimeSpan.Zero)
{
    var rate = sustainedRate > 0 ? sustainedRate : Math.Max(1, (int)(0.8 * maxLag.CommandsPerSecond));
    Console.WriteLine($"Sustained: {rate} commands/s offered for {sustained.TotalMinutes:0.#} min...");
    var origin = Stopwatch.GetTimestamp();
    var minutes = new List<(double Rss, double? Live, ProcessorTime.Split Cpu)>();
    using var perMinute = new CancellationTokenSource();
    var rssSampler = Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        var minuteStart = processorTime.Now();
        var minuteStartedAt = memory.Elapsed;
        try
        {
            while (await timer.WaitForNextTickAsync(perMinute.Token))
            {
                var endedAt = memory.Elapsed;
                var now = processorTime.Now();
                minutes.Add((memory.MeanMiB(minuteStartedAt, endedAt), ResidentMemory.LiveAfterFullCollectionMiB(), now.Since(minuteStart, 1)));
                minuteStartedAt = endedAt;
                minuteStart = now;
            }
        }
        catch (OperationCanceledException)
        {
            // the run ended
        }
    });
    var sustainedRequestsBefore = storageRequests?.ByTarget();
    var sustainedBytesBefore = storageRequests?.BytesByTarget();
    sustainedLag = await MeasureLag("sustained", rate, sustained);
    if (storageRequests is not null)
    {
        // Where the storage's work goes over a long run: requests and request bytes per command, by what they address.
        var commands = Math.Max(1, sustainedLag.AnsweredAt.Length);
        var bytesAfter = storageRequests.BytesByTarget();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  storage requests and request bytes of the sustained run, per command ({commands} commands):"));
        foreach (var (target, count) in storageRequests.ByTarget().OrderByDescending(p => p.Value))
        {
            var requests = count - (sustainedRequestsBefore!.TryGetValue(target, out var earlier) ? earlier : 0);
            var bytes = (bytesAfter.TryGetValue(target, out var b) ? b : 0) - (sustainedBytesBefore!.TryGetValue(target, out var earlierBytes) ? earlierBytes : 0);
            if (requests > 0)
            {
                var name = target.Replace(run, "", StringComparison.Ordinal);
                var key = name.Replace(' ', '.').ToLowerInvariant();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {name}: {(double)requests / commands:0.000} requests, {(double)bytes / commands / 1024:0.00} KiB"));
                figures.Add("sustained.storage_requests_per_command." + key, (double)requests / commands, "requests");
                figures.Add("sustained.storage_kib_per_command." + key, (double)bytes / commands / 1024, "KiB");
            }
        }
    }

    await perMinute.CancelAsync();
    await rssSampler;
    Console.WriteLine();
    Console.WriteLine("| minute | commands/s | lag p50 ms | lag p99 ms | RSS MiB (mean) | live after full GC, MiB | this process, cores | Azurite, cores |");
    Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (minute, window) in sustainedLag.Windows(origin, TimeSpan.FromMinutes(1)))
    {
        (double Rss, double? Live, ProcessorTime.Split Cpu)? sampled = minute < minutes.Count ? minutes[minute] : null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {minute + 1} | {window.CommandsPerSecond:0} | {window.Percentile(50):0.0} | {window.Percentile(99):0.0} | {sampled?.Rss:0} | {sampled?.Live:0} | {sampled?.Cpu.ThisProcessCores:0.00} | {sampled?.Cpu.AzuriteCores:0.00} |"));
        figures.Add($"sustained.minute{minute + 1:D2}.lag_p50", window.Percentile(50), "ms");
        figures.Add($"sustained.minute{minute + 1:D2}.lag_p99", window.Percentile(99), "ms");
        if (sampled is { } sample)
        {
            figures.Add($"sustained.minute{minute + 1:D2}.this_process_cores", sample.Cpu.ThisProcessCores, "cores");
            if (sample.Cpu.AzuriteCores is { } azuriteCores)
            {
                figures.Add($"sustained.minute{minute + 1:D2}.azurite_cores", azuriteCores, "cores");
            }

            figures.Add($"sustained.minute{minute + 1:D2}.rss", sample.Rss, "MiB");
            if (sample.Live is { } liveMiB)
            {
                figures.Add($"sustained.minute{minute + 1:D2}.live_after_full_gc", liveMiB, "MiB");
            }
        }
    }

    ReportLag("statistics.lag.sustained", $"sustained, offered {rate} commands/s", sustainedLag);

    // What the data the run left costs Azurite per request: the baseline again, into a new table
    // and into the events table that now holds the run's orders (appends of new orders, as the
    // baseline's are), both against the baseline measured at the start.
    var afterTable = new TableClient(connection, "benchafter" + run);
    await afterTable.CreateIfNotExistsAsync();
    var afterNew = await Measure("storage.one_row_transaction.after_sustained.new_table", "storage: one-row transaction after the sustained run, new table", orders, concurrency, i =>
        afterTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("after-" + I(i), "0000000001"))]));
    var eventsTable = new TableClient(connection, "benchevents" + run);
    var afterEvents = await Measure("storage.one_row_transaction.after_sustained.events_table", "storage: one-row transaction after the sustained run, into the events table", orders, concurrency, i =>
        eventsTable.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Row("after-" + run + "-" + I(i), "0000000001"))]));
    figures.Add("storage.after_sustained.new_table_vs_start", afterNew.PerSecond / baseline.PerSecond, "ratio");
    figures.Add("storage.after_sustained.events_table_vs_start", afterEvents.PerSecond / baseline.PerSecond, "ratio");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  Azurite after the sustained run: a one-row transaction at {afterNew.PerSecond / baseline.PerSecond:0.00} × its rate at the start into a new table, {afterEvents.PerSecond / baseline.PerSecond:0.00} × into the events table"));
    if (app is not null && minutes.Count >= 4)
    {
        var half = minutes.Count / 2;
        rssGrowthLastHalf = minutes[^1].Rss / minutes[half - 1].Rss;
        figures.Add("sustained.rss_growth_last_half", rssGrowthLastHalf.Value, "ratio");
    }
}

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
    Console.WriteLine(result.Row(result.Scenario.Contains("64 in flight", StringComparison.Ordinal) ? baseline64.PerSecond : baseline.PerSecond));
}

Console.WriteLine("(× baseline: each scenario against the one-row transaction at the same number in flight.)");
Console.WriteLine();
Console.WriteLine(converged
    ? string.Create(CultureInfo.InvariantCulture, $"Statistics counted every event {convergence.TotalSeconds:0.0} s after the last command.")
    : "Statistics did NOT count every event within 120 s of the last command.");
Console.WriteLine(rebuildPerSecond is { } rebuiltPerSecond
    ? string.Create(CultureInfo.InvariantCulture,
        $"Rebuild: {rebuildState}, {rebuilt} events in {rebuildElapsed.TotalSeconds:0.0} s ({rebuiltPerSecond:0} events/s; {rebuiltPerSecond / baseline.PerSecond:0.00} × baseline).")
    : string.Create(CultureInfo.InvariantCulture, $"Rebuild: {rebuildState} after {rebuildElapsed.TotalSeconds:0.0} s ({rebuilt} events): NOT completed."));
// In-process runs only: against ./run.sh --silos N this process is the benchmark's client alone.
var rss = memory.Samples;
if (app is not null && rss.Count > 0)
{
    figures.Add("rss.start", rss[0].MiB, "MiB");
    figures.Add("rss.end", rss[^1].MiB, "MiB");
    figures.Add("rss.max", rss.Max(s => s.MiB), "MiB");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Resident memory of this process (API, silo and the benchmark's client): {rss[0].MiB:0} MiB at start, {rss.Max(s => s.MiB):0} MiB at most, {rss[^1].MiB:0} MiB at the end."));
}

// The issue's goals, each with this run's figure.
figures.Goal("lag_p99_max_rate", "statistics lag p99 at the maximum rate", maxLag.Percentile(99), atLeast: false, 50, "ms",
    string.Create(CultureInfo.InvariantCulture, $"({maxLag.CommandsPerSecond:0} commands/s; {maxLag.Unseen} never counted)"));
figures.Goal("lag_p99_fixed_rate", $"statistics lag p99 at {lagRate} commands/s offered", fixedLag.Percentile(99), atLeast: false, 50, "ms");
if (sustainedLag is not null)
{
    figures.Goal("lag_p99_sustained", "statistics lag p99, sustained run", sustainedLag.Percentile(99), atLeast: false, 50, "ms", "(the goal: bounded, not growing; per minute above)");
}

figures.Goal("storage_requests_per_command", "storage requests per command, standard mix", requestsPerCommand, atLeast: false, 1.1, "requests",
    "(place, pay, ship; statistics, change index, reconciliation included; idle rate subtracted"
    + (warmPerCommand is { } warm
        ? string.Create(CultureInfo.InvariantCulture, $"; for information, at 64 in flight with its statistics grains active, its change rows' removal left out: {warm:0.00})")
        : ")"));
// Azurite serves requests on one thread: the ratio of its processor time per one-row transaction to
// that per placement is the most the placement ratio can reach while Azurite does that work per placement.
var placementSplit = processorSplits["api.place.c64"];
var transactionSplit = processorSplits["storage.one_row_transaction.c64"];
var azuritePerPlacement = placementSplit.AzuriteMsPerOperation;
var azuritePerTransaction = transactionSplit.AzuriteMsPerOperation;
var azuriteCeiling = azuritePerTransaction / azuritePerPlacement;
if (azuriteCeiling is { } ceiling)
{
    figures.Add("cpu.placement_ceiling_vs_one_row_c64", ceiling, "×");
}

// Azurite and this process share the machine's cores: at the processor time both spend per
// placement, every core busy allows this many placements a second, which over the one-row
// transactions' rate is the most the placement ratio can reach on this machine, whichever of the
// two does the work (in-process runs only: against ./run.sh --silos N, the silos' processor time
// is not this process's).
double? machineCeiling = null;
if (app is not null && azuritePerPlacement is { } azuritePlacementMs)
{
    var placementsOnEveryCore = Environment.ProcessorCount * 1000 / (placementSplit.ThisProcessMsPerOperation + azuritePlacementMs);
    machineCeiling = placementsOnEveryCore / baseline64.PerSecond;
    figures.Add("cpu.placement_machine_ceiling_vs_one_row_c64", machineCeiling.Value, "×");
    figures.Add("cpu.placement_c64_cores_busy", placementSplit.ThisProcessCores + placementSplit.AzuriteCores!.Value, "cores");
}

figures.Goal("placement_vs_one_row_c64", "placement ÷ one-row transaction, 64 in flight", place64.PerSecond / baseline64.PerSecond, atLeast: true, 0.8, "×",
    azuriteCeiling is null ? null : string.Create(CultureInfo.InvariantCulture,
        $"(Azurite {azuritePerPlacement:0.00} ms per placement, {azuritePerTransaction:0.00} per one-row transaction: at most {azuriteCeiling:0.00} × while Azurite is the limit")
        + (machineCeiling is null ? ")" : string.Create(CultureInfo.InvariantCulture,
            $"; at most {machineCeiling:0.00} × with every core busy: both processes kept {placementSplit.ThisProcessCores + placementSplit.AzuriteCores:0.00} of {Environment.ProcessorCount} busy during the placements, {transactionSplit.ThisProcessCores + transactionSplit.AzuriteCores:0.00} during the one-row transactions)")));
var longest = historyLengths[^1];
double? Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;
figures.Goal("append_p50_history_ratio", $"append p50 at {longest:N0} events ÷ at 10", Ratio(history?.AppendPercentile(Ours, longest, 50), history?.AppendPercentile(Ours, 10, 50)), atLeast: false, 1.2, "×",
    history is null ? "(in-process runs only)" : null);
figures.Goal("cold_read_history_ratio", $"cold first read p50 at {longest:N0} events ÷ at 10", Ratio(history?.ColdReadPercentile(Ours, longest, 50), history?.ColdReadPercentile(Ours, 10, 50)), atLeast: false, 2, "×",
    history?.Failure("JournaledGrain LogStorage") is { } logStorageFailure
        ? $"(JournaledGrain LogStorage failed at {logStorageFailure.Length:N0} events; ours {(history.Failure(Ours) is { } ourFailure ? $"at {ourFailure.Length:N0}" : $"not up to {longest:N0}")})"
        : history is null ? "(in-process runs only)" : $"(JournaledGrain LogStorage did not fail up to {longest:N0} events)");
figures.Goal("rebuild_vs_one_row", "rebuild events/s ÷ one-row transactions/s", rebuildPerSecond / baseline.PerSecond, atLeast: true, 5, "×",
    rebuildPerSecond is { } rebuildEventsPerSecond ? string.Create(CultureInfo.InvariantCulture, $"({rebuildEventsPerSecond:0} events/s)") : $"(the rebuild: {rebuildState})");
figures.Goal("rss_plateau", "RSS, last minute ÷ middle minute of the sustained run (minute means)", rssGrowthLastHalf, atLeast: false, 1.1, "×",
    sustained > TimeSpan.Zero ? null : "(only with --sustained)");
figures.PrintGoals();

if (flatResultsFile is not null)
{
    await figures.WriteAsync(flatResultsFile);
    Console.WriteLine($"Figures: {flatResultsFile}");
}

if (resultsFile is not null)
{
    await File.WriteAllTextAsync(resultsFile, JsonSerializer.Serialize(new
    {
        scenarios = results.Select(r => new { name = r.Scenario, perSecond = r.PerSecond, p50 = r.Percentile(50), p99 = r.Percentile(99) }),
        convergenceSeconds = converged ? convergence.TotalSeconds : (double?)null,
        rebuildEventsPerSecond = rebuildPerSecond,
    }));
}

var broken = results.Where(r => !r.MostlySucceeded).Select(r => r.Scenario)
    .Concat(new[] { fixedLag, maxLag, sustainedLag }.Where(l => l is { MostlySucceeded: false }).Select(_ => "statistics lag"))
    .ToList();
if (broken.Count > 0)
{
    Console.WriteLine("Most commands failed in: " + string.Join(", ", broken));
}

return converged && rebuildState == "completed" && broken.Count == 0 ? 0 : 1;

// Orders placed, paid and shipped (three commands each), either at a fixed offered rate of
// commands or as fast as 64 orders in flight go, for the duration; the lag of every answer.
async Task<LagResult> MeasureLag(string prefix, int? commandsPerSecond, TimeSpan duration)
{
    var lag = new StatisticsLag();
    var result = await lag.MeasureAsync(SummaryEventCount, async probe =>
    {
        var watch = Stopwatch.StartNew();
        var next = -1;
        async Task OneOrder(int i)
        {
            var id = OrderId("lag-" + prefix, i);
            try
            {
                await Send(HttpMethod.Post, "/api/orders", Place(id, null), HttpStatusCode.Created);
                probe.Answered();
                await Send(HttpMethod.Post, $"/api/orders/{id}/payments", Payment(i, null), HttpStatusCode.OK);
                probe.Answered();
                await Send(HttpMethod.Post, $"/api/orders/{id}/shipment", Shipment(i, null), HttpStatusCode.OK);
                probe.Answered();
            }
            catch (UnexpectedAnswerException)
            {
                probe.Failed(); // the order's remaining commands are not sent
            }
        }

        if (commandsPerSecond is { } rate)
        {
            // An order every 3/rate seconds, however long the earlier ones take (up to 512 at once).
            var running = new List<Task>();
            using var inFlight = new SemaphoreSlim(512);
            var interval = TimeSpan.FromSeconds(3.0 / rate);
            for (var i = 0; watch.Elapsed < duration; i++)
            {
                var due = interval * i - watch.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                await inFlight.WaitAsync();
                var order = i;
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await OneOrder(order);
                    }
                    finally
                    {
                        inFlight.Release();
                    }
                }));
            }

            await Task.WhenAll(running);
        }
        else
        {
            await Task.WhenAll(Enumerable.Range(0, HighConcurrency).Select(async _ =>
            {
                while (watch.Elapsed < duration)
                {
                    await OneOrder(Interlocked.Increment(ref next));
                }
            }));
        }
    }, TimeSpan.FromSeconds(60));
    return result;
}

void ReportLag(string key, string label, LagResult lag)
{
    figures.Add(key + ".commands_per_second", lag.CommandsPerSecond, "1/s");
    figures.Add(key + ".p50", lag.Percentile(50), "ms");
    figures.Add(key + ".p99", lag.Percentile(99), "ms");
    figures.Add(key + ".never_counted", lag.Unseen, "commands");
    figures.Add(key + ".failed_orders", lag.FailedOrders, "orders");
    figures.Add(key + ".poll_p50", lag.PollPercentile(50), "ms");
    figures.Add(key + ".poll_p99", lag.PollPercentile(99), "ms");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  statistics lag, {label}: {lag.LagMs.Length} commands at {lag.CommandsPerSecond:0}/s ({lag.FailedOrders} orders failed), lag p50 {lag.Percentile(50):0.0} ms, p99 {lag.Percentile(99):0.0} ms, {lag.Unseen} never counted ({lag.Polls} polls of the summary, each p50 {lag.PollPercentile(50):0.0} ms, p99 {lag.PollPercentile(99):0.0} ms)"));
}

// Every event the all-time summary counts; null when it was not answered (a 503 under overload).
async Task<long?> SummaryEventCount()
{
    var summary = await GetJsonOrNull("/api/stats/summary");
    return summary?.GetProperty("events").EnumerateObject().Sum(p => p.Value.GetInt64());
}

// Whether the summary of the mixes' day counts at least this many orders shipped.
async Task<bool> DayCountsShippedAsync(long atLeast)
{
    var summary = await GetJsonOrNull($"/api/stats/summary?from={day:yyyy-MM-ddTHH:mm}Z&to={day.AddDays(1):yyyy-MM-ddTHH:mm}Z");
    return summary?.GetProperty("orders").GetProperty("shipped").GetInt64() >= atLeast;
}

// A query's JSON answer; null when it was answered other than 200 (the caller polls again).
async Task<JsonElement?> GetJsonOrNull(string path)
{
    using var response = await http.GetAsync(path);
    return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
}

async Task Send(HttpMethod method, string path, object? body, HttpStatusCode expected)
{
    using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
    using var response = await http.SendAsync(request);
    if (response.StatusCode != expected)
    {
        throw new UnexpectedAnswerException($"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}", response.StatusCode);
    }
}

static object Place(string orderId, DateTimeOffset? at) => new
{
    orderId,
    customerId = "customer-" + (orderId.GetHashCode() & 63).ToString(CultureInfo.InvariantCulture),
    currency = "EUR",
    items = new[] { new { sku = "SKU-1", quantity = 2, unitPrice = 10.00m }, new { sku = "SKU-2", quantity = 1, unitPrice = 10.00m } },
    occurredAt = at,
};

static object Payment(int i, DateTimeOffset? at) => new { paymentId = "pay-" + I(i), amount = 30.00m, method = "card", occurredAt = at };

static object Shipment(int i, DateTimeOffset? at) => new { carrier = "DHL", trackingNumber = "T" + I(i), occurredAt = at };

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
