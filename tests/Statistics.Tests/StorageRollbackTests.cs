using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Streams;
using OrderFlow.Testing;
using Orleans.Runtime;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Storage lost its last writes (a restore; the emulator killed between its saves; an Azure account
/// failover to its recovery point) while a silo ran. Nothing may append after versions storage no
/// longer holds, commands are judged against what it holds, and the statistics, which had counted
/// the lost events, are re-derived from the log by themselves: nobody starts a rebuild.
/// </summary>
public sealed class StorageRollbackTests(AzuriteFixture azurite)
{
    private static readonly string[] Skus = [.. Enumerable.Range(1, 6).Select(i => string.Create(CultureInfo.InvariantCulture, $"RB-SKU-{i}"))];

    private static CheckPlan PlanFor(DateTimeOffset day0) => new(
        [(null, null), (day0.AddHours(6).AddMinutes(10), day0.AddHours(30).AddMinutes(45))],
        [(day0.AddHours(20), day0.AddHours(22), StatsInterval.Minute), (day0, day0.AddDays(3), StatsInterval.Day)],
        [10]);

    [Fact]
    public async Task After_storage_lost_writes_commands_follow_the_log_without_a_gap_and_statistics_repair_themselves()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);
        var table = new TableClient(azurite.ConnectionString, host.EventsTable);
        var day0 = TestClock.Day0;
        var check = PlanFor(day0);
        var random = new Random(31);
        var generator = new ScenarioGenerator(random, Skus);
        OrderPlan Plan(string id, Lifecycle lifecycle) => generator.Order(
            id, string.Create(CultureInfo.InvariantCulture, $"rb-customer-{random.Next(5)}"), "EUR", lifecycle, generator.RandomTime(day0, TimeSpan.FromHours(40)));

        // Written in full before the loss: untouched by it.
        var settled = Enumerable.Range(0, 16).Select(i => Plan($"rb-settled-{i:D2}", ScenarioGenerator.Lifecycles[i % ScenarioGenerator.Lifecycles.Length])).ToList();

        // Delivered in the end, but storage keeps only their first 1, 2 or 3 steps (placed, paid, shipped).
        var advanced = Enumerable.Range(0, 9).Select(i => Plan($"rb-advanced-{i}", Lifecycle.Delivered)).ToList();
        int Kept(int i) => 1 + (i % 3);

        // Placed and paid after the point storage goes back to: lost whole.
        var lost = Enumerable.Range(0, 3).Select(i => Plan($"rb-lost-{i}", Lifecycle.Paid)).ToList();

        await Parallel.ForEachAsync(settled.Concat(advanced.Select((plan, i) => plan with { Steps = [.. plan.Steps.Take(Kept(i))] })),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var saved = await ReadTableAsync(table, ct);

        await Parallel.ForEachAsync(advanced.Select((plan, i) => (plan, i)), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (pair, token) => await SendStepsAsync(host, pair.plan, Kept(pair.i), pair.plan.Steps.Count, token));
        await Parallel.ForEachAsync(lost, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        await StatsCheck.AssertConvergesAsync(host.Reader, await ExpectedFromLogAsync(host, ct), check, TimeSpan.FromSeconds(60), ct, "statistics before the loss", host.Log.Describe);

        // Storage goes back to the saved point under the running silo; the order activations keep their views.
        await RestoreTableAsync(table, saved, ct);

        // Placed in storage, delivered in the activation's cache: a shipment is refused (not paid), a payment succeeds.
        var placedOnly = advanced[0];
        var (status, body) = await PostAsync(host, $"/api/orders/{placedOnly.OrderId}/shipment",
            new { carrier = "DHL", trackingNumber = "JD-RB", occurredAt = Time(placedOnly.Steps[2].At) }, ct);
        Assert.True(status == HttpStatusCode.Conflict && body.Contains("invalid-transition", StringComparison.Ordinal), $"{(int)status}: {body}");
        (status, body) = await PostAsync(host, $"/api/orders/{placedOnly.OrderId}/payments",
            new { paymentId = "pay-after-the-loss", amount = placedOnly.Total, method = "card", occurredAt = Time(placedOnly.Steps[1].At) }, ct);
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {body}");
        Assert.Equal(2, JsonDocument.Parse(body).RootElement.GetProperty("version").GetInt32());

        // Paid in storage: the lost shipment is sent again and lands at version 3. Shipped: the delivery lands at 4.
        await SendStepsAsync(host, advanced[1], 2, 3, ct);
        await SendStepsAsync(host, advanced[2], 3, 4, ct);

        // Lost whole: placed again, as new.
        await SendStepsAsync(host, lost[0], 0, 1, ct);

        // No gap: every order's versions are 1..N, its placement at 1, and its head records N.
        var rows = await ReadTableAsync(table, ct);
        foreach (var partition in rows.GroupBy(r => r.PartitionKey))
        {
            var events = partition.Where(r => char.IsAsciiDigit(r.RowKey[0])).OrderBy(r => r.RowKey, StringComparer.Ordinal).ToList();
            Assert.Equal(Enumerable.Range(1, events.Count), events.Select(r => KeyEncoding.VersionOf(r.RowKey)));
            Assert.Equal("OrderPlaced", events[0].GetString("Type"));
            var head = Assert.Single(partition, r => r.RowKey == TableEventStore.HeadRowKey);
            Assert.Equal(events.Count, head.GetInt32("Version"));
        }

        Assert.Contains(host.Log.GetSnapshot(), entry => entry.Level == LogLevel.Error
            && entry.Message.Contains($"Order {placedOnly.OrderId}: storage holds version 1, but this activation had confirmed version 4", StringComparison.Ordinal));

        // The projections had counted the lost events, and would skip the new ones at the same
        // versions as counted: they are re-derived from the log, without anyone asking.
        await StatsCheck.AssertConvergesAsync(host.Reader, await ExpectedFromLogAsync(host, ct), check, TimeSpan.FromSeconds(120), ct,
            "statistics after storage lost writes", host.Log.Describe);
        Assert.Contains(host.Log.Messages(), entry => entry.Contains("Projections are re-derived from the event log", StringComparison.Ordinal));
    }

    /// <summary>
    /// The whole account goes back (events, change index and the silo's rollback watch) and no order
    /// that lost writes is commanded again: the silo notices by its watch row, and the statistics,
    /// which counted the lost events, are re-derived from the log.
    /// </summary>
    [Fact]
    public async Task Statistics_are_repaired_after_storage_lost_writes_even_if_no_order_is_commanded_again()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);
        var tables = new[] { host.EventsTable, host.EventsTable + "changes", host.EventsTable + "watch" }
            .Select(name => new TableClient(azurite.ConnectionString, name)).ToList();
        var day0 = TestClock.Day0;
        var check = PlanFor(day0);
        var generator = new ScenarioGenerator(new Random(53), Skus);
        var plans = Enumerable.Range(0, 12).Select(i => generator.Order(
            $"rw-{i:D2}", $"rw-customer-{i % 4}", "EUR", Lifecycle.Delivered, generator.RandomTime(day0, TimeSpan.FromHours(40)))).ToList();

        await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (plan, token) => await host.SendAsync(plan with { Steps = [.. plan.Steps.Take(2)] }, token));
        await WaitForRowsAsync(tables[2], ct);
        var saved = new List<List<TableEntity>>();
        foreach (var table in tables)
        {
            saved.Add(await ReadTableAsync(table, ct));
        }

        await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (plan, token) => await SendStepsAsync(host, plan, 2, plan.Steps.Count, token));
        await StatsCheck.AssertConvergesAsync(host.Reader, await ExpectedFromLogAsync(host, ct), check, TimeSpan.FromSeconds(60), ct, "statistics before the loss", host.Log.Describe);

        for (var i = 0; i < tables.Count; i++)
        {
            await RestoreTableAsync(tables[i], saved[i], ct);
        }

        var expected = await ExpectedFromLogAsync(host, ct);
        Assert.All(expected.Facts.GroupBy(f => f.OrderId), order => Assert.Equal(2, order.Count()));
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.FromSeconds(120), ct, "statistics after the account lost writes", host.Log.Describe);
        Assert.Contains(host.Log.Messages(), entry => entry.Contains("Storage lost writes: this silo's rollback watch row", StringComparison.Ordinal));

        // The order activations, which had confirmed delivery, answer with what storage holds.
        foreach (var plan in plans)
        {
            using var order = JsonDocument.Parse(await host.Http.GetStringAsync("/api/orders/" + plan.OrderId, ct));
            Assert.Equal((2, "paid"), (order.RootElement.GetProperty("version").GetInt32(), order.RootElement.GetProperty("status").GetString()));
        }
    }

    /// <summary>
    /// A month that lost a write holds an older revision of a day than the day pushed. Either the
    /// day finds out (it reactivates with a push it does not know landed) or the month does (the
    /// next push does not follow what it holds): where the day failed every flush for good, the
    /// projections are re-derived from the log by themselves and the statistics converge.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_month_behind_its_day_gets_the_projections_repaired(bool dayReactivates)
    {
        var ct = TestContext.Current.CancellationToken;
        var tables = ClusterTables.Unique("oos");
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct);
        var day0 = TestClock.Day0;
        var check = PlanFor(day0);
        var generator = new ScenarioGenerator(new Random(dayReactivates ? 41 : 43), Skus);
        var plans = Enumerable.Range(0, 12).Select(i => generator.Order(
            $"oos-{i:D2}", $"oos-customer-{i % 4}", "EUR", ScenarioGenerator.Lifecycles[i % ScenarioGenerator.Lifecycles.Length],
            generator.RandomTime(day0, TimeSpan.FromHours(40)))).ToList();
        foreach (var plan in plans)
        {
            await cluster.ExecuteAsync(plan);
        }

        // A second push of the first order's day, so that the month holds a revision beyond the first.
        var shard = OrderEventStreams.ShardOf(plans[0].OrderId);
        var day = DateOnly.FromDateTime(plans[0].Steps[0].At.UtcDateTime);
        var noon = new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
        var monthKey = StatisticsKeys.Month(1, shard, day.Year, day.Month);
        var month = cluster.Client.GetGrain<IMonthStatsGrain>(monthKey);

        // The statistics converge from the days' live copies, before any flush pushes: wait for the pushes themselves.
        await StatsCheck.AssertConvergesAsync(cluster.Reader, await cluster.ExpectedFromLogAsync(ct), check, TimeSpan.FromSeconds(45), ct, "statistics at first");
        await Eventually.UntilAsync(async () => await month.RevisionOf(day.Day) > 0, "the day's first push to land in its month", ct);
        await cluster.ExecuteAsync(generator.Order(StatsCluster.IdOnShard("oos-second", shard), "oos-customer-9", "EUR", Lifecycle.Paid, noon));
        await StatsCheck.AssertConvergesAsync(cluster.Reader, await cluster.ExpectedFromLogAsync(ct), check, TimeSpan.FromSeconds(45), ct, "statistics before the month's loss");
        await Eventually.UntilAsync(async () => await month.RevisionOf(day.Day) > 1, "the day's second push to land in its month", ct);
        if (dayReactivates)
        {
            await cluster.DeactivateAsync(cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, shard, day)));
        }

        // The month's product totals and applied revisions, gone as a lost write leaves them.
        await cluster.DeactivateAsync(month);
        var statistics = new TableClient(azurite.ConnectionString, tables.Statistics);
        var monthGrain = GrainId.Create(ProjectionGrainTypes.Month, monthKey);
        var products = (await statistics.GetEntityAsync<TableEntity>(
            ProjectionStateKeys.PartitionKey(tables.ServiceId, monthGrain), ProjectionStateKeys.RowKey(monthGrain, "products"), cancellationToken: ct)).Value;
        await statistics.DeleteEntityAsync(products.PartitionKey, products.RowKey, ETag.All, ct);
        Assert.Equal(0, await month.RevisionOf(day.Day));

        // The day's next push finds the two out of step.
        await cluster.ExecuteAsync(generator.Order(StatsCluster.IdOnShard("oos-third", shard), "oos-customer-9", "EUR", Lifecycle.Shipped, noon.AddMinutes(7)));

        // The day's live copy may show the lost sales until then (as increments the month does not hold): wait for the repair itself.
        await Eventually.UntilAsync(async () => await cluster.Client.GetGrain<IProjectionControl>(0).Serving() > 1,
            "a new generation, derived from the log, to serve", ct, TimeSpan.FromSeconds(120));
        await StatsCheck.AssertConvergesAsync(cluster.Reader, await cluster.ExpectedFromLogAsync(ct), check, TimeSpan.FromSeconds(120), ct, "statistics after the month lost a write");
    }

    private async Task<Expected> ExpectedFromLogAsync(StatsApiHost host, CancellationToken ct)
    {
        var store = new TableEventStore(
            new TableServiceClient(azurite.ConnectionString), Options.Create(new EventStoreOptions { TableName = host.EventsTable }),
            TimeProvider.System, NullLogger<TableEventStore>.Instance);
        var log = new Dictionary<string, List<StoredEvent>>(StringComparer.Ordinal);
        await foreach (var (orderId, stored) in store.ScanAllAsync(cancellationToken: ct))
        {
            if (!log.TryGetValue(orderId, out var events))
            {
                log[orderId] = events = [];
            }

            events.Add(stored);
        }

        return new Expected(log.SelectMany(pair => Facts.ForOrder(pair.Key, Facts.FromLog(pair.Value))));
    }

    /// <summary>Sends steps [from, to) of the plan.</summary>
    private static Task SendStepsAsync(StatsApiHost host, OrderPlan plan, int from, int to, CancellationToken ct) =>
        host.SendAsync(plan with { Steps = [.. plan.Steps.Skip(from).Take(to - from)] }, ct);

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(StatsApiHost host, string path, object body, CancellationToken ct)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await host.Http.PostAsync(path, content, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Waits until the silo's rollback watch has written its row; the table may not exist before then.</summary>
    private static Task WaitForRowsAsync(TableClient table, CancellationToken ct) =>
        Eventually.UntilAsync(async () =>
        {
            try
            {
                return (await ReadTableAsync(table, ct)).Count > 0;
            }
            catch (RequestFailedException missing) when (missing.Status == 404)
            {
                return false;
            }
        }, $"a row in table {table.Name}", ct);

    /// <summary>Every entity of the table, as stored.</summary>
    private static async Task<List<TableEntity>> ReadTableAsync(TableClient table, CancellationToken ct)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: ct))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Puts the table back as <paramref name="saved"/> had it: rows written since are deleted, the saved ones put back.</summary>
    private static async Task RestoreTableAsync(TableClient table, List<TableEntity> saved, CancellationToken ct)
    {
        var keep = saved.Select(row => (row.PartitionKey, row.RowKey)).ToHashSet();
        foreach (var row in await ReadTableAsync(table, ct))
        {
            if (!keep.Contains((row.PartitionKey, row.RowKey)))
            {
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, ct);
            }
        }

        foreach (var row in saved)
        {
            await table.UpsertEntityAsync(row, TableUpdateMode.Replace, ct);
        }
    }
}
