using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Projections;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Streams;
using OrderFlow.Testing;
using Orleans.Runtime;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Failure isolation: a projection key or an event that fails over and over is parked (listed by
/// GET /api/admin/parked, /health/ready Degraded), retried with back-off, and never holds up the
/// reconciliation of the other orders or a rebuild; once repaired, it is retried and unparked.
/// The real API host with its co-hosted silo, on Azurite, with corrupt rows written into its tables.
/// </summary>
public sealed class ParkingTests(AzuriteFixture azurite)
{
    internal static readonly Dictionary<string, string?> Settings = new()
    {
        ["EventStore:ChangeBucket"] = "00:00:01",
        ["Statistics:Reconciliation:Settle"] = "00:00:05",
        ["Statistics:Reconciliation:Interval"] = "00:00:00.200",
        ["Statistics:Parking:FirstRetry"] = "00:00:01",
        ["Statistics:Parking:MaxRetry"] = "00:00:02",
    };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_poisoned_customer_projection_is_parked_while_every_other_order_is_reconciled_and_rebuilt_and_unparked_once_repaired()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, Settings);
        var statistics = new TableClient(azurite.ConnectionString, host.StatisticsTable);
        var changes = ChangesOf(host);
        var (plans, check) = Plans(new Random(31), 24, "pk");

        // A first order, so that a customer's stored state shows the row layout of the grain storage.
        await host.SendAsync(plans[0], ct);
        var sample = await Eventually.ValueAsync(async () =>
        {
            await foreach (var row in statistics.QueryAsync<TableEntity>(cancellationToken: ct))
            {
                if (row.RowKey.StartsWith(ProjectionGrainTypes.Customer + ".", StringComparison.Ordinal))
                {
                    return row;
                }
            }

            return null;
        }, "a customer's state to be stored", ct, Patience);

        // The poisoned customer's state, in the serving generation and in the one a rebuild will fill,
        // cannot be read: its grain fails every call. Its id has a '.', which its key encodes.
        const string Poisoned = "poison.customer";
        var poisonRows = new[] { 1, 2 }.Select(generation => Corrupt(sample, KeysOf(sample, generation, Poisoned))).ToList();
        foreach (var row in poisonRows)
        {
            await statistics.UpsertEntityAsync(row, TableUpdateMode.Replace, ct);
        }

        var generator = new ScenarioGenerator(new Random(32), [.. Enumerable.Range(1, 4).Select(i => $"PK-SKU-{i}")]);
        var poisonedPlans = new[]
        {
            generator.Order("pk-poison-1", Poisoned, "EUR", Lifecycle.Delivered, TestClock.Day0.AddHours(20)),
            generator.Order("pk-poison-2", Poisoned, "EUR", Lifecycle.Paid, TestClock.Day0.AddHours(21)),
        };
        var all = plans.Concat(poisonedPlans).ToList();
        await Parallel.ForEachAsync(all.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var expected = new Expected(all.SelectMany(p => p.Facts()));
        var poisonedOrders = poisonedPlans.Select(p => p.OrderId).ToHashSet(StringComparer.Ordinal);

        // The reconciliation parks the customer and finishes every other order: its change rows go,
        // only the poisoned customer's orders are announced again (for their retry).
        var parked = await Eventually.ValueAsync(async () =>
        {
            var list = await ParkedAsync(host, ct);
            var rows = await changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 1000, ct);
            return list.Records.Any(r => r.Key == "customerstats/1/poison~2Ecustomer") && rows.All(r => poisonedOrders.Contains(r.StreamId)) ? list : null;
        }, "the poisoned customer to be parked and every other change row removed", ct, Patience);
        var record = Assert.Single(parked.Records);
        Assert.Equal(ParkedKind.Projection, record.Kind);
        Assert.Contains("\"kind\":\"projection\"", await host.Http.GetStringAsync("/api/admin/parked", ct), StringComparison.Ordinal);
        Assert.Contains("customer 'poison.customer'", record.Subject, StringComparison.Ordinal);
        Assert.True(record.Attempts >= 1 && record.NextRetry > record.LastFailure && record.LastFailure >= record.FirstFailure, record.ToString());
        await host.WaitUntilReadyAsync(ct, "Degraded");

        // Every statistic but the poisoned customer's equals a fold over the log.
        await AssertOnlyPoisonedDiffersAsync(host, expected, check, Poisoned, "before the rebuild", ct);

        // A rebuild completes, counting every event but the poisoned customer's, and says it parked something.
        var status = await RebuildTests.RebuildAsync(host, ct);
        Assert.Equal(2, status.Generation);
        Assert.True(status.Parked >= 1, $"The rebuild parked nothing: {status}");
        Assert.Equal(expected.Facts.Count(f => f.CustomerId != Poisoned), status.EventsProcessed);
        Assert.Contains((await ParkedAsync(host, ct)).Records, r => r.Key == "customerstats/2/poison~2Ecustomer");
        await AssertOnlyPoisonedDiffersAsync(host, expected, check, Poisoned, "after the rebuild", ct);

        // Repaired: the parked customer is retried, counted from the log and unparked.
        foreach (var row in poisonRows)
        {
            await statistics.DeleteEntityAsync(row.PartitionKey, row.RowKey, cancellationToken: ct);
        }

        await Eventually.UntilAsync(async () => (await ParkedAsync(host, ct)) is { Count: 0, NotListed: 0 }, "the parked list to be emptied", ct, Patience);
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, Patience, ct, "statistics once the poison was removed", host.Log.Describe);
        await host.WaitUntilReadyAsync(ct, "Healthy");

        // The orders' last retry rows (the reconciliation's and the rebuild's) come due, succeed and go.
        await Eventually.UntilAsync(async () => (await changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 1, ct)).Count == 0, "the change index to be emptied", ct, Patience);

        // Parked once per generation, not at every pass and retry.
        Assert.Equal(2, host.Log.Messages().Count(line => line.Contains("Parked Projection customerstats/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_unreadable_event_parks_its_order_in_the_reconciliation_and_in_a_rebuild_that_completes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, Settings);
        var events = new TableClient(azurite.ConnectionString, host.EventsTable);
        var changes = ChangesOf(host);
        var (plans, check) = Plans(new Random(41), 20, "ue");
        var generator = new ScenarioGenerator(new Random(42), ["UE-SKU-1", "UE-SKU-2"]);
        var bad = generator.Order("ue-bad", "ue-bad-customer", "EUR", Lifecycle.Delivered, TestClock.Day0.AddHours(30));
        var all = plans.Append(bad).ToList();
        await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var expected = new Expected(all.SelectMany(p => p.Facts()));
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, Patience, ct, "statistics before the corruption", host.Log.Describe);
        await Eventually.UntilAsync(async () => (await changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 1, ct)).Count == 0, "the change index to be emptied", ct, Patience);

        // Event 2 of the order is corrupted in the log, and the order announced again.
        var original = (await events.GetEntityAsync<TableEntity>(KeyEncoding.Encode(bad.OrderId), KeyEncoding.EventRowKey(2), cancellationToken: ct)).Value;
        var corrupt = new TableEntity(original) { ["Data"] = "{ this is not an event" };
        await events.UpdateEntityAsync(corrupt, original.ETag, TableUpdateMode.Replace, ct);
        await changes.RecordAsync(bad.OrderId, 1, changes.PartitionOf(bad.OrderId, DateTimeOffset.UtcNow), ct);

        var parked = await Eventually.ValueAsync(async () => await ParkedAsync(host, ct) is { Count: > 0 } list ? list : null, "the order to be parked", ct, Patience);
        var record = Assert.Single(parked.Records);
        Assert.Equal(ParkedKind.Event, record.Kind);
        Assert.Equal("ue-bad#2", record.Key);
        Assert.Contains("Event 2 (OrderPaid) cannot be read", record.Reason, StringComparison.Ordinal);
        await host.WaitUntilReadyAsync(ct, "Degraded");

        // Only the order's own row is left (announced for its retry), and it stays parked however often it is retried.
        var rows = await changes.ReadEndedBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), 100, ct);
        Assert.All(rows, row => Assert.Equal(bad.OrderId, row.StreamId));
        await Eventually.UntilAsync(async () => (await ParkedAsync(host, ct)).Records.Single().Attempts >= 2, "the parked event to be retried", ct, Patience);

        // A rebuild completes: the order's events from the corrupt one on are not counted, and it says so.
        var status = await RebuildTests.RebuildAsync(host, ct);
        Assert.True(status.Parked >= 1, $"The rebuild parked nothing: {status}");
        var withoutBadTail = new Expected(expected.Facts.Where(f => f.OrderId != bad.OrderId || f.Version < 2));
        Assert.Equal(withoutBadTail.Facts.Count, status.EventsProcessed);
        await StatsCheck.AssertConvergesAsync(host.Reader, withoutBadTail, check, Patience, ct, "statistics after the rebuild, without the unreadable events", host.Log.Describe);

        // Repaired: the order is read again from the log, counted and unparked.
        var current = (await events.GetEntityAsync<TableEntity>(original.PartitionKey, original.RowKey, cancellationToken: ct)).Value;
        await events.UpdateEntityAsync(new TableEntity(original), current.ETag, TableUpdateMode.Replace, ct);
        await Eventually.UntilAsync(async () => (await ParkedAsync(host, ct)) is { Count: 0 }, "the parked list to be emptied", ct, Patience);
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, Patience, ct, "statistics once the event was repaired", host.Log.Describe);
        await host.WaitUntilReadyAsync(ct, "Healthy");
    }

    /// <summary>
    /// A live projection whose write-behind flush keeps failing (here: its push to the month) used
    /// to try, and log a warning, every second for good. It backs off, says so once, parks itself
    /// after a few failures in a row, and unparks when a flush succeeds again.
    /// </summary>
    [Fact]
    public async Task A_projection_whose_flush_keeps_failing_backs_off_parks_itself_and_unparks_once_it_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        var faults = new PushFaults();
        var log = LogCapture.WarningsAndErrors();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("flushpark"), ct,
            new Dictionary<string, string?>
            {
                ["Statistics:Reconciliation:Enabled"] = "false",
                ["Statistics:Parking:MaxRetry"] = "00:00:04",
            },
            silo =>
            {
                silo.AddIncomingGrainCallFilter(faults);
                silo.Services.AddLogging(logging => logging.AddCapture(log));
            });
        var day = new DateOnly(2026, 9, 12);
        var key = "daystats/" + StatisticsKeys.Day(1, 0, day);
        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));
        var parking = cluster.Client.GetGrain<IParkedRecordsGrain>(0);

        faults.Next(PushFault.LostOnTheWay, times: 1_000);
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        var orderId = StatsCluster.IdOnShard("flushpark", 0);
        await grain.IngestBatch([new OrderEventEnvelope(orderId, 1, Guid.NewGuid(), OrderPlaced.StoredName, at, "c", "EUR", 20m, 20m,
            [new OrderLine("PARK-SKU", 2, 10m)], OrderStatus.None, OrderStatus.Placed, null, null, null)]);
        await grain.IngestBatch([new OrderEventEnvelope(orderId, 2, Guid.NewGuid(), OrderPaid.StoredName, at.AddMinutes(1), "c", "EUR", 20m, 20m,
            [new OrderLine("PARK-SKU", 2, 10m)], OrderStatus.Placed, OrderStatus.Paid, 60, null, null)]);

        var record = await Eventually.ValueAsync(async () => (await parking.List()).Records.SingleOrDefault(r => r.Key == key), "the day to park itself", ct, Patience);
        Assert.Equal(ParkedKind.Projection, record.Kind);
        Assert.Contains("3 flushes in a row failed", record.Reason, StringComparison.Ordinal);

        // Ten more seconds of failing: a flush a second would be ten more attempts; backing off
        // (doubling from the flush interval, up to 4 s) makes it about four.
        var before = faults.Injected;
        await Task.Delay(TimeSpan.FromSeconds(10), ct);
        var attempts = faults.Injected - before;
        Assert.True(attempts <= 6, $"{attempts} flush attempts in 10 s: the flush did not back off.");
        Assert.Equal(1, log.Messages().Count(e => e.Contains($"Statistics of {key} could not be persisted", StringComparison.Ordinal)));
        Assert.Equal(1, log.Messages().Count(e => e.Contains($"Parked Projection {key}", StringComparison.Ordinal)));

        faults.Clear();
        await Eventually.UntilAsync(async () => (await parking.List()).Count == 0, "the day to unpark itself", ct, Patience);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(1, 0, day.Year, day.Month));
        Assert.Equal(2, (await month.GetProducts()).Listed["PARK-SKU"].Quantity);
    }

    /// <summary>
    /// Review finding: once a parked projection flushed again, an unpark that failed (the parked
    /// list unreachable for a moment) was never tried again, so the grain stayed listed as parked
    /// until the reconciliation happened to feed it. It is tried again at the next flush tick.
    /// </summary>
    [Fact]
    public async Task A_projection_whose_unpark_failed_tries_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var flushes = new PushFaults();
        var unparks = new PushFaults(nameof(Grains.Projections.Parking.IParking.Resolve));
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("unparkagain"), ct,
            new Dictionary<string, string?>
            {
                ["Statistics:Reconciliation:Enabled"] = "false",
                ["Statistics:Parking:MaxRetry"] = "00:00:02",
            },
            silo =>
            {
                silo.AddIncomingGrainCallFilter(flushes);
                silo.AddIncomingGrainCallFilter(unparks);
            });
        var day = new DateOnly(2026, 9, 13);
        var key = "daystats/" + StatisticsKeys.Day(1, 0, day);
        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));
        var parking = cluster.Client.GetGrain<IParkedRecordsGrain>(0);

        flushes.Next(PushFault.LostOnTheWay, times: 1_000);
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        await grain.IngestBatch([new OrderEventEnvelope(StatsCluster.IdOnShard("unparkagain", 0), 1, Guid.NewGuid(), OrderPlaced.StoredName, at, "c", "EUR", 20m, 20m,
            [new OrderLine("UNPARK-SKU", 1, 20m)], OrderStatus.None, OrderStatus.Placed, null, null, null)]);
        await Eventually.UntilAsync(async () => (await parking.List()).Records.Any(r => r.Key == key), "the day to park itself", ct, Patience);

        unparks.Next(PushFault.LostOnTheWay);
        flushes.Clear();
        await Eventually.UntilAsync(() => Task.FromResult(unparks.Injected == 1), "the day's first unpark to fail", ct, Patience);
        await Eventually.UntilAsync(async () => (await parking.List()).Count == 0, "the day to unpark itself after all", ct, Patience);
    }

    /// <summary>
    /// Review finding: an unpark whose write failed had already taken the record out of the list
    /// in memory, so a retry answered as done without writing, and the record came back with the
    /// list's next activation. The record stays listed until its removal is stored.
    /// </summary>
    [Fact]
    public async Task An_unpark_whose_write_failed_is_done_by_its_retry()
    {
        var ct = TestContext.Current.CancellationToken;
        var tables = ClusterTables.Unique("unparkwrite");
        var refusal = new RefuseNextWrite(tables.Statistics);
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct,
            new Dictionary<string, string?> { ["Statistics:Reconciliation:Enabled"] = "false" },
            silo => silo.Services.AddSingleton(new Silo.StorageClientPolicy(refusal)));
        var parking = cluster.Client.GetGrain<Grains.Projections.Parking.IParking>(0);
        await parking.Park([new Grains.Projections.Parking.ParkRequest(ParkedKind.Projection, "daystats/1/0/2026-09-14", "a day", "a test", TimeSpan.FromHours(1))]);

        refusal.Arm();
        await Assert.ThrowsAnyAsync<Exception>(() => parking.Resolve(ParkedKind.Projection, ["daystats/1/0/2026-09-14"]));
        await parking.Resolve(ParkedKind.Projection, ["daystats/1/0/2026-09-14"]);

        await cluster.DeactivateAsync(cluster.Client.GetGrain<IParkedRecordsGrain>(0));
        Assert.Equal(0, (await cluster.Client.GetGrain<IParkedRecordsGrain>(0).List()).Count);
    }

    /// <summary>Once armed, the next write to <paramref name="table"/> is refused before it is sent (the parked list's, in a silo doing nothing else).</summary>
    private sealed class RefuseNextWrite(string table) : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int armed;

        public void Arm() => Interlocked.Exchange(ref armed, 1);

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            ThrowIfArmedFor(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            ThrowIfArmedFor(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void ThrowIfArmedFor(Azure.Core.HttpMessage message)
        {
            if (message.Request.Method != Azure.Core.RequestMethod.Get && message.Request.Uri.Path.Contains("/" + table, StringComparison.Ordinal)
                && Interlocked.Exchange(ref armed, 0) == 1)
            {
                throw new Azure.RequestFailedException(503, "Injected by the test: the write was refused before it was sent.");
            }
        }
    }

    [Fact]
    public async Task The_parked_list_is_for_admins_only()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, new Dictionary<string, string?>
        {
            ["Api:Keys:0:Key"] = "reader-key",
            ["Api:Keys:0:Role"] = "reader",
            ["Api:Keys:1:Key"] = "admin-key",
            ["Api:Keys:1:Role"] = "admin",
        });

        using var anonymous = await host.Http.GetAsync("/api/admin/parked", ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var asReader = new HttpRequestMessage(HttpMethod.Get, "/api/admin/parked") { Headers = { { "X-Api-Key", "reader-key" } } };
        using var readerAnswer = await host.Http.SendAsync(asReader, ct);
        Assert.Equal(HttpStatusCode.Forbidden, readerAnswer.StatusCode);
        using var asAdmin = new HttpRequestMessage(HttpMethod.Get, "/api/admin/parked") { Headers = { { "X-Api-Key", "admin-key" } } };
        using var adminAnswer = await host.Http.SendAsync(asAdmin, ct);
        Assert.Equal(HttpStatusCode.OK, adminAnswer.StatusCode);
        var list = (await adminAnswer.Content.ReadFromJsonAsync<ParkedRecords>(Json, ct))!;
        Assert.Equal(0, list.Count);
        Assert.Empty(list.Records);
    }

    private ChangeIndex ChangesOf(StatsApiHost host) =>
        new(new TableServiceClient(azurite.ConnectionString),
            Options.Create(new EventStoreOptions { TableName = host.EventsTable, ChangeBucket = TimeSpan.FromSeconds(1) }),
            NullLogger<ChangeIndex>.Instance);

    /// <summary>The keys of a customer's state row as the statistics grain storage writes it, with the service id taken from a real row of generation 1 ("{service}_1_{partition}").</summary>
    private static (string PartitionKey, string RowKey) KeysOf(TableEntity sample, int generation, string customerId)
    {
        var service = sample.PartitionKey[..sample.PartitionKey.LastIndexOf("_1_", StringComparison.Ordinal)]; // the sample is of generation 1
        var grain = GrainId.Create(ProjectionGrainTypes.Customer, StatisticsKeys.Customer(generation, customerId));
        return (ProjectionStateKeys.PartitionKey(service, grain), ProjectionStateKeys.RowKey(grain, "customer"));
    }

    /// <summary>A row shaped like <paramref name="sample"/> whose state is bytes that are no state at all.</summary>
    private static TableEntity Corrupt(TableEntity sample, (string PartitionKey, string RowKey) keys)
    {
        var row = new TableEntity(keys.PartitionKey, keys.RowKey);
        foreach (var (name, value) in sample)
        {
            if (name is "PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")
            {
                continue;
            }

            row[name] = value switch
            {
                byte[] bytes => Enumerable.Repeat((byte)0xEE, Math.Max(bytes.Length, 16)).ToArray(),
                BinaryData data => Enumerable.Repeat((byte)0xEE, Math.Max(data.ToArray().Length, 16)).ToArray(),
                string => "{ not a state",
                _ => value,
            };
        }

        return row;
    }

    internal static async Task<ParkedRecords> ParkedAsync(StatsApiHost host, CancellationToken ct) =>
        (await host.Http.GetFromJsonAsync<ParkedRecords>("/api/admin/parked", Json, ct))!;


    /// <summary>Every statistic equals the fold, but the poisoned customer's own report, which cannot be read (not even asked).</summary>
    private static async Task AssertOnlyPoisonedDiffersAsync(StatsApiHost host, Expected expected, CheckPlan check, string poisoned, string when, CancellationToken ct)
    {
        var reader = new SkippingCustomer(host.Reader, poisoned);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var diffs = await StatsCheck.DiffAsync(reader, expected, check, ct);
            var others = diffs.Where(d => !d.StartsWith($"customer[{poisoned}]", StringComparison.Ordinal)).ToList();
            if (others.Count == 0 && diffs.Count == 1)
            {
                return;
            }

            Assert.True(watch.Elapsed < Patience, $"Statistics {when} differ from the fold beyond the poisoned customer:\n  {string.Join("\n  ", diffs.Take(30))}\n{host.Log.Describe()}");
            await Task.Delay(400, ct);
        }
    }

    private sealed class SkippingCustomer(IStatsReader inner, string customerId) : IStatsReader
    {
        public Task<SummaryReport> Summary(DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken) => inner.Summary(from, to, cancellationToken);

        public Task<TimeSeriesReport> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval, CancellationToken cancellationToken) =>
            inner.TimeSeries(from, to, interval, cancellationToken);

        public Task<IReadOnlyList<ProductSales>> TopProducts(int top, bool byQuantity, CancellationToken cancellationToken) => inner.TopProducts(top, byQuantity, cancellationToken);

        public Task<CustomerReport?> Customer(string id, CancellationToken cancellationToken) =>
            id == customerId ? Task.FromResult<CustomerReport?>(null) : inner.Customer(id, cancellationToken);

        public Task<IReadOnlyList<RiskAlert>> Alerts(CancellationToken cancellationToken) => inner.Alerts(cancellationToken);

        public Task<IReadOnlyList<StuckOrder>> Stuck(OrderStatus status, CancellationToken cancellationToken) => inner.Stuck(status, cancellationToken);
    }

    private static (List<OrderPlan> Plans, CheckPlan Check) Plans(Random random, int count, string prefix)
    {
        var day0 = TestClock.Day0;
        var generator = new ScenarioGenerator(random, [.. Enumerable.Range(1, 6).Select(i => $"{prefix.ToUpperInvariant()}-SKU-{i}")]);
        var plans = Enumerable.Range(1, count).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D3}"),
            string.Create(CultureInfo.InvariantCulture, $"{prefix}-cust-{random.Next(6)}"),
            random.Next(3) == 0 ? "USD" : "EUR",
            generator.AnyLifecycle(),
            generator.RandomTime(day0, TimeSpan.FromHours(50)))).ToList();
        var check = new CheckPlan(
            [(null, null), (day0.AddHours(5), day0.AddHours(29))],
            [(day0, day0.AddDays(3), StatsInterval.Day)],
            [10]);
        return (plans, check);
    }
}
