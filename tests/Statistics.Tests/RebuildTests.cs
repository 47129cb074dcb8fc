using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics;
using OrderFlow.Projections;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace OrderFlow.Statistics.Tests;

/// <summary>POST /api/admin/projections/rebuild: recompute every projection from the log into a new generation.</summary>
public sealed class RebuildTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_rebuild_leaves_every_statistic_unchanged()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);
        var (plans, check) = Plans(new Random(7), 150, "settled");
        await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var expected = new Expected(plans.SelectMany(p => p.Facts()));
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics before the rebuild");
        var before = await StatsCheck.SnapshotAsync(host.Reader, expected.Customers, check, ct);

        // Two rebuilds asked for at once: one starts, the other is refused while it runs, naming it.
        var answers = await Task.WhenAll(
            host.Http.PostAsync("/api/admin/projections/rebuild", null, ct),
            host.Http.PostAsync("/api/admin/projections/rebuild", null, ct));
        var started = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        var refused = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Conflict);
        var location = started.Headers.Location!.ToString();
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains(location, await refused.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }

        var status = await Rebuilds.WaitUntilEndedAsync(host, location, ct);
        Assert.Equal(RebuildState.Completed, status.State);
        Assert.Equal(expected.Facts.Count, status.EventsProcessed);
        Assert.Equal(2, status.Generation);
        Assert.True(status.CompletedAt >= status.StartedAt);
        var after = await StatsCheck.SnapshotAsync(host.Reader, expected.Customers, check, ct);
        Assert.True(before == after, "The rebuild changed statistics:\n  " + StatsCheck.SnapshotDiff(before, after));

        // The next rebuild deletes the stored state of generation 1, keeps 2 (replaced just now) until the one after.
        var stored = await StoredStatesAsync(host, ct);
        Assert.True(stored.GetValueOrDefault(1) > 0 && stored.GetValueOrDefault(2) > 0, "Stored states by generation: " + Describe(stored));
        var third = await RebuildAsync(host, ct);
        Assert.Equal(3, third.Generation);
        stored = await StoredStatesAsync(host, ct);
        Assert.True(!stored.ContainsKey(1) && stored.GetValueOrDefault(2) > 0 && stored.GetValueOrDefault(3) > 0, "Stored states by generation after the third: " + Describe(stored));
        var afterThird = await StatsCheck.SnapshotAsync(host.Reader, expected.Customers, check, ct);
        Assert.True(before == afterThird, "The second rebuild changed statistics:\n  " + StatsCheck.SnapshotDiff(before, afterThird));
    }

    [Fact]
    public async Task A_rebuild_while_commands_keep_arriving_loses_nothing_and_counts_nothing_twice()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);
        var random = new Random(11);
        var (early, check) = Plans(random, 150, "early");
        var (late, _) = Plans(random, 150, "late");
        await Parallel.ForEachAsync(early, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));

        // Commands keep arriving while the rebuild scans the log.
        var rebuild = RebuildAsync(host, ct);
        await Parallel.ForEachAsync(late, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var status = await rebuild;

        Assert.Equal(RebuildState.Completed, status.State);
        var expected = new Expected(early.Concat(late).SelectMany(p => p.Facts()));
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics after a rebuild under load", host.Log.Describe);
    }

    [Fact]
    public async Task A_failed_rebuild_leaves_the_serving_generation_as_it_was_and_a_later_one_takes_a_new_generation()
    {
        var ct = TestContext.Current.CancellationToken;
        var failing = new FailingGeneration(2);
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, services: s => s.AddSingleton<IIncomingGrainCallFilter>(failing));
        var random = new Random(23);
        var (plans, check) = Plans(random, 40, "failing");
        var (late, _) = Plans(random, 5, "after-failure");
        await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var expected = new Expected(plans.SelectMany(p => p.Facts()));
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics before the rebuild");
        var before = await StatsCheck.SnapshotAsync(host.Reader, expected.Customers, check, ct);

        // Projections of the new generation that cannot persist make the rebuild fail.
        var failed = await Rebuilds.WaitUntilEndedAsync(host, await StartRebuildAsync(host, ct), ct);

        Assert.Equal(RebuildState.Failed, failed.State);
        Assert.False(string.IsNullOrEmpty(failed.Error));
        Assert.Equal(2, failed.Generation);
        Assert.NotNull(failed.CompletedAt);
        var after = await StatsCheck.SnapshotAsync(host.Reader, expected.Customers, check, ct);
        Assert.True(before == after, "A failed rebuild changed the statistics served:\n  " + StatsCheck.SnapshotDiff(before, after));

        // Generation 1 still counts live events.
        await Parallel.ForEachAsync(late, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        expected = new Expected(plans.Concat(late).SelectMany(p => p.Facts()));
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics of live events after a failed rebuild");

        // Once they can, a rebuild succeeds into a generation of its own, not the failed one's.
        failing.TurnOff();
        var status = await RebuildAsync(host, ct);
        Assert.Equal(3, status.Generation);
        Assert.Equal(expected.Facts.Count, status.EventsProcessed);
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.Zero, ct, "statistics after the rebuild that followed a failed one");

        // The failed rebuild's partial generation is deleted; generation 1, which served until now, is kept for now.
        var stored = await StoredStatesAsync(host, ct);
        Assert.True(stored.GetValueOrDefault(1) > 0 && !stored.ContainsKey(2) && stored.GetValueOrDefault(3) > 0, "Stored states by generation: " + Describe(stored));
    }

    /// <summary>
    /// An upgrade from a build that stored statistics in another layout (ProjectionSchema): the old
    /// generation is neither read nor fed, statistics answer 503 saying why while a rebuild from
    /// the log runs by itself, then equal a fold over the log, and the old rows are deleted.
    /// </summary>
    [Fact]
    public async Task Statistics_stored_in_an_earlier_layout_are_rebuilt_by_themselves()
    {
        var ct = TestContext.Current.CancellationToken;
        var (settings, expected, check) = await EarlierLayoutAsync("upgrade", ct);

        await using var upgraded = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, settings);
        var problem = await StatisticsProblemAsync(upgraded, ct);
        Assert.Contains("after an upgrade", problem, StringComparison.Ordinal);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await StatisticsProblemAsync(upgraded, ct, allowAnswer: true) is { } stillRebuilding)
        {
            Assert.True(DateTime.UtcNow < deadline, "Statistics still unavailable: " + stillRebuilding);
            await Task.Delay(200, ct);
        }

        await StatsCheck.AssertConvergesAsync(upgraded.Reader, expected, check, TimeSpan.FromSeconds(30), ct, "statistics rebuilt after the upgrade");
        var stored = await StoredStatesAsync(upgraded, ct);
        Assert.True(!stored.ContainsKey(1) && stored.GetValueOrDefault(2) > 0, "Stored states by generation: " + Describe(stored));
    }

    /// <summary>
    /// An upgrade from layout 4, whose projection state Orleans' Azure Table grain storage kept in
    /// a partition per grain: this build finds the projection control's row of that layout, rebuilds
    /// its generation from the log into its own layout, serves the rebuilt statistics, and deletes
    /// the rows of the old layout.
    /// </summary>
    [Fact]
    public async Task Statistics_of_layout_4_in_Orleans_table_grain_storage_are_rebuilt_in_this_layout()
    {
        var ct = TestContext.Current.CancellationToken;
        var tables = ClusterTables.Unique("layout4");
        var (plans, check) = Plans(new Random(41), 30, "layout4");
        var expected = new Expected(plans.SelectMany(p => p.Facts()));
        var settings = new Dictionary<string, string?> { ["Statistics:Reconciliation:Enabled"] = "false" };
        await using (var earlier = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct, settings, silo => LayoutFourStorage(silo, tables.Statistics)))
        {
            await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, _) => await earlier.ExecuteAsync(plan));
            await StatsCheck.AssertConvergesAsync(earlier.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics stored in layout 4");
        }

        // A build of layout 4 recorded its layout with the projection control (this one records 5).
        var statistics = new TableClient(azurite.ConnectionString, tables.Statistics);
        var control = (await statistics.GetEntityAsync<TableEntity>(tables.ServiceId + "_projectioncontrol_0", "projections", cancellationToken: ct)).Value;
        var serializer = new OrleansGrainStorageSerializer(new ServiceCollection().AddSerializer(builder => builder.AddAssembly(typeof(ProjectionsState).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>());
        var recorded = serializer.Deserialize<ProjectionsState>(new BinaryData(control.GetBinary("Data")!))!;
        Assert.Equal(ProjectionSchema.Current, recorded.ActiveSchema);
        recorded.ActiveSchema = 4;
        control["Data"] = serializer.Serialize(recorded).ToArray();
        await statistics.UpdateEntityAsync(control, ETag.All, TableUpdateMode.Replace, ct);
        Assert.True((await StoredStatesAsync(tables.Statistics, ct)).GetValueOrDefault(1) > 10);

        await using var upgraded = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct, settings);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                Assert.Equal(2, await upgraded.Client.GetGrain<IProjectionControl>(0).Active());
                break;
            }
            catch (StatisticsUnavailableException unavailable)
            {
                Assert.True(DateTime.UtcNow < deadline, "Statistics still unavailable: " + unavailable.Message);
                await Task.Delay(200, ct);
            }
        }

        await StatsCheck.AssertConvergesAsync(upgraded.Reader, expected, check, TimeSpan.FromSeconds(30), ct, "statistics rebuilt after the upgrade from layout 4");
        var stored = await StoredStatesAsync(tables.Statistics, ct);
        Assert.True(!stored.ContainsKey(1) && stored.GetValueOrDefault(2) > 0, "Stored states by generation: " + Describe(stored));
    }

    /// <summary>
    /// Found by an audit: a deployment rolled back past a layout change served the later build's
    /// generation as if it were of its own layout (it read rows where that layout keeps none, and
    /// wrote its own beside them). A layout other than its own, later as well as earlier, is rebuilt.
    /// </summary>
    [Fact]
    public async Task Statistics_stored_in_a_later_layout_are_rebuilt_by_a_build_rolled_back_to()
    {
        var ct = TestContext.Current.CancellationToken;
        var tables = ClusterTables.Unique("rollback");
        var (plans, check) = Plans(new Random(43), 20, "rollback");
        var expected = new Expected(plans.SelectMany(p => p.Facts()));
        var settings = new Dictionary<string, string?> { ["Statistics:Reconciliation:Enabled"] = "false" };
        await using (var later = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct, settings))
        {
            await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, _) => await later.ExecuteAsync(plan));
            await StatsCheck.AssertConvergesAsync(later.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics before the rollback");

            // The later build recorded its layout with the projection control.
            var control = later.Client.GetGrain<IProjectionControl>(0).GetGrainId();
            var storage = later.SiloServices.GetRequiredKeyedService<IGrainStorage>(StatisticsOptions.StorageName);
            var recorded = new GrainState<ProjectionsState>();
            await storage.ReadStateAsync("projections", control, recorded);
            Assert.Equal((1, ProjectionSchema.Current), (recorded.State!.ActiveGeneration, recorded.State.ActiveSchema));
            recorded.State.ActiveSchema = ProjectionSchema.Current + 1;
            await storage.WriteStateAsync("projections", control, recorded);
        }

        await using var rolledBack = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct, settings);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                var serving = await rolledBack.Client.GetGrain<IProjectionControl>(0).Active();
                Assert.True(serving == 2 || DateTime.UtcNow < deadline, $"Generation {serving} of the later layout is served.");
                if (serving == 2)
                {
                    break;
                }
            }
            catch (StatisticsUnavailableException unavailable)
            {
                Assert.True(DateTime.UtcNow < deadline, "Statistics still unavailable: " + unavailable.Message);
            }

            await Task.Delay(200, ct);
        }

        await StatsCheck.AssertConvergesAsync(rolledBack.Reader, expected, check, TimeSpan.FromSeconds(30), ct, "statistics rebuilt after the rollback");
        var stored = await StoredStatesAsync(tables.Statistics, ct);
        Assert.True(!stored.ContainsKey(1) && stored.GetValueOrDefault(2) > 0, "Stored states by generation: " + Describe(stored));
    }

    /// <summary>The statistics' grain storage of layout 4: Orleans' Azure Table grain storage, in Orleans' binary format.</summary>
    private void LayoutFourStorage(ISiloBuilder silo, string table)
    {
        silo.Services.AddOptions<AzureTableStorageOptions>(StatisticsOptions.StorageName).Configure<IServiceProvider>((options, services) =>
        {
            options.TableServiceClient = new TableServiceClient(azurite.ConnectionString);
            options.TableName = table;
            options.GrainStorageSerializer = new GrainStorageSerializer(
                new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
                services.GetRequiredService<IGrainStorageSerializer>());
        });
        silo.Services.AddKeyedSingleton<IGrainStorage>(StatisticsOptions.StorageName, (services, _) => AzureTableGrainStorageFactory.Create(services, StatisticsOptions.StorageName));
    }

    /// <summary>When that rebuild fails, statistics stay unavailable and say so; a rebuild started by hand then restores them.</summary>
    [Fact]
    public async Task A_failed_rebuild_after_an_upgrade_leaves_statistics_unavailable_until_one_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        var (settings, expected, check) = await EarlierLayoutAsync("upgradefail", ct);
        var failing = new FailingGeneration(2);

        await using var upgraded = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, settings, s => s.AddSingleton<IIncomingGrainCallFilter>(failing));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string problem;
        while (!(problem = (await StatisticsProblemAsync(upgraded, ct))!).Contains("failed", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "The rebuild did not fail: " + problem);
            await Task.Delay(200, ct);
        }

        Assert.Contains("POST /api/admin/projections/rebuild", problem, StringComparison.Ordinal);

        failing.TurnOff();
        var status = await RebuildAsync(upgraded, ct);
        Assert.Equal(3, status.Generation);
        await StatsCheck.AssertConvergesAsync(upgraded.Reader, expected, check, TimeSpan.Zero, ct, "statistics after the rebuild by hand");
    }

    /// <summary>
    /// Runs a host on new tables, sends orders, and leaves what an earlier build would have: the
    /// projection rows in a layout this one cannot read (here: bytes that are no state at all, so
    /// reading any of them fails) and no record of their layout. Returns the tables' settings.
    /// </summary>
    private async Task<(Dictionary<string, string?> Settings, Expected Expected, CheckPlan Check)> EarlierLayoutAsync(string prefix, CancellationToken ct)
    {
        var settings = new Dictionary<string, string?>
        {
            ["EventStore:TableName"] = TableNames.Unique(prefix + "ev"),
            ["Statistics:TableName"] = TableNames.Unique(prefix + "st"),

            // So that the test's first query is what first asks which generation serves.
            ["Statistics:Reconciliation:Enabled"] = "false",
        };
        var (plans, check) = Plans(new Random(prefix.Length), 30, prefix);
        var expected = new Expected(plans.SelectMany(p => p.Facts()));
        await using (var earlier = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, settings))
        {
            await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await earlier.SendAsync(plan, token));
            await StatsCheck.AssertConvergesAsync(earlier.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics before the upgrade");
        }

        var statistics = new TableClient(azurite.ConnectionString, settings["Statistics:TableName"]);
        var unreadableRows = 0;
        await foreach (var row in statistics.QueryAsync<TableEntity>(cancellationToken: ct))
        {
            if (row.PartitionKey.EndsWith("_projectioncontrol", StringComparison.Ordinal))
            {
                await statistics.DeleteEntityAsync(row.PartitionKey, row.RowKey, cancellationToken: ct);
            }
            else if (!row.RowKey.StartsWith(ProjectionGrainTypes.Catalog + ".", StringComparison.Ordinal)) // its layout is unchanged
            {
                await statistics.UpsertEntityAsync(new TableEntity(row.PartitionKey, row.RowKey) { ["Data"] = new byte[] { 0xFF, 0x13, 0x37, 0x00, 0xFF } }, TableUpdateMode.Replace, ct);
                unreadableRows++;
            }
        }

        Assert.True(unreadableRows > 10, $"only {unreadableRows} projection rows");
        return (settings, expected, check);
    }

    /// <summary>The detail of the 503 problem GET /api/stats/summary answers; null for a 200 when <paramref name="allowAnswer"/>.</summary>
    private static async Task<string?> StatisticsProblemAsync(StatsApiHost host, CancellationToken ct, bool allowAnswer = false)
    {
        using var response = await host.Http.GetAsync("/api/stats/summary", ct);
        if (allowAnswer && response.StatusCode == HttpStatusCode.OK)
        {
            return null;
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("/problems/statistics-unavailable", problem.GetProperty("type").GetString());
        return problem.GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task An_unknown_rebuild_is_404()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);

        using var response = await host.Http.GetAsync("/api/admin/projections/rebuild/nope", ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// Rows of projection state in the host's statistics table, by generation, read independently of
    /// the product: "orderflow_{generation}_{partition}" (until layout 6 "orderflow_{grain type}_{generation}_{partition}",
    /// and as Orleans' grain storage keyed them until layout 4: "orderflow_{grain type}_{generation}[_{rest}]").
    /// </summary>
    private Task<SortedDictionary<int, int>> StoredStatesAsync(StatsApiHost host, CancellationToken ct) => StoredStatesAsync(host.StatisticsTable, ct);

    private async Task<SortedDictionary<int, int>> StoredStatesAsync(string table, CancellationToken ct)
    {
        var byGeneration = new SortedDictionary<int, int>();
        await foreach (var row in new TableClient(azurite.ConnectionString, table).QueryAsync<TableEntity>(select: ["PartitionKey"], cancellationToken: ct))
        {
            var parts = row.PartitionKey.Split('_');
            if (parts.Length >= 3 && parts[1] != "projectioncontrol"
                && (int.TryParse(parts[1], CultureInfo.InvariantCulture, out var generation) || int.TryParse(parts[2], CultureInfo.InvariantCulture, out generation)))
            {
                byGeneration[generation] = byGeneration.GetValueOrDefault(generation) + 1;
            }
        }

        return byGeneration;
    }

    /// <summary>
    /// A rebuild meets a row of the event log that the scan itself cannot read (an event row
    /// without its event time, as if damaged or written by hand): it parks that order and completes,
    /// and every other order is counted. (An event that is read but cannot be deserialized is parked
    /// likewise: see <c>ParkingTests</c>.)
    /// </summary>
    [Fact]
    public async Task A_rebuild_that_meets_a_row_it_cannot_read_parks_its_order_and_completes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);
        var (plans, check) = Plans(new Random(29), 30, "damaged");
        await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var expected = new Expected(plans.SelectMany(p => p.Facts()));
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.FromSeconds(45), ct, "statistics before the rebuild");
        await new TableClient(azurite.ConnectionString, host.EventsTable).AddEntityAsync(UnreadableEvent(), ct);

        var status = await RebuildAsync(host, ct);

        Assert.Equal(2, status.Generation);
        Assert.True(status.Parked >= 1, $"The rebuild parked nothing: {status}");
        Assert.Equal(expected.Facts.Count, status.EventsProcessed);
        await StatsCheck.AssertConvergesAsync(host.Reader, expected, check, TimeSpan.Zero, ct, "statistics after a rebuild that met a damaged row");
    }

    /// <summary>An event row without its event time: the scan cannot read it.</summary>
    private static TableEntity UnreadableEvent() => new("zz-unreadable", "0000000001")
    {
        ["EventId"] = Guid.NewGuid(),
        ["Type"] = "OrderTeleported",
        ["SchemaVersion"] = 1,
        ["RecordedAt"] = DateTimeOffset.UtcNow,
        ["Data"] = "{}",
    };

    private static string Describe(SortedDictionary<int, int> stored) =>
        string.Join(", ", stored.Select(pair => $"generation {pair.Key}: {pair.Value} rows"));

    /// <summary>Starts a rebuild, waits for it and asserts that it completed.</summary>
    internal static async Task<RebuildStatus> RebuildAsync(StatsApiHost host, CancellationToken ct)
    {
        var status = await Rebuilds.WaitUntilEndedAsync(host, await StartRebuildAsync(host, ct), ct);
        Assert.True(status.State == RebuildState.Completed, $"Rebuild {status.Id} ended {status.State}: {status.Error}");
        return status;
    }

    /// <summary>POSTs a rebuild (asserting 202) and returns its status location.</summary>
    private static async Task<string> StartRebuildAsync(StatsApiHost host, CancellationToken ct)
    {
        using var started = await host.Http.PostAsync("/api/admin/projections/rebuild", null, ct);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var location = started.Headers.Location!.ToString();
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString();
        Assert.EndsWith("/" + id, location);
        return location;
    }

    private static (List<OrderPlan> Plans, CheckPlan Check) Plans(Random random, int count, string prefix)
    {
        var day0 = TestClock.Day0;
        var generator = new ScenarioGenerator(random, [.. Enumerable.Range(1, 8).Select(i => $"SKU-{i}")]);
        var plans = Enumerable.Range(1, count).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D4}"),
            string.Create(CultureInfo.InvariantCulture, $"rb-cust-{random.Next(12):D2}"),
            random.Next(3) == 0 ? "USD" : "EUR",
            generator.AnyLifecycle(),
            generator.RandomTime(day0, TimeSpan.FromHours(56)))).ToList();
        var check = new CheckPlan(
            [(null, null), (day0.AddHours(5).AddMinutes(13), day0.AddHours(29).AddMinutes(47))],
            [(day0.AddHours(30), day0.AddHours(32), StatsInterval.Minute), (day0, day0.AddDays(3), StatsInterval.Day)],
            [10]);
        return (plans, check);
    }
}
