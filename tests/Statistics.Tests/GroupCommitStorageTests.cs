using System.Globalization;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// The statistics grain storage on Azurite, called as Orleans calls it: the writes of many grains to
/// one partition go in one request, each keeps its own outcome, and what does not fit one
/// transaction is split. Requests are counted by a pipeline policy on the storage's own client.
/// </summary>
public sealed class GroupCommitStorageTests(AzuriteFixture azurite)
{
    private const string ServiceId = StatisticsStorageOnAzurite.ServiceId;

    /// <summary>Long enough that every write a test starts at once is queued before the partition's first transaction leaves.</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Writes_of_many_grains_to_one_partition_go_in_one_request_and_read_back()
    {
        var ct = TestContext.Current.CancellationToken;
        var (storage, requests, _) = await StartAsync(ct);
        var grains = GrainsOfOnePartition(1, 30);
        var states = grains.Select(grain => State($"first {grain}")).ToList();

        await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync("day", grain, states[i], ct)));

        Assert.Equal(new[] { "$batch" }, Targets(requests));
        Assert.All(states, state => Assert.True(state.ETag is not null && state.RecordExists));

        // Replaced, each conditional on the ETag its add returned: one request again.
        requests.Reset();
        for (var i = 0; i < states.Count; i++)
        {
            states[i].State!.Months = [$"second {grains[i]}"];
        }

        var added = states.Select(state => state.ETag).ToList();
        await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync("day", grain, states[i], ct)));

        Assert.Equal(new[] { "$batch" }, Targets(requests));
        Assert.All(states.Zip(added), pair => Assert.NotEqual(pair.Second, pair.First.ETag));
        for (var i = 0; i < grains.Count; i++)
        {
            var read = new GrainState<StatsCatalogState>();
            await storage.ReadStateAsync("day", grains[i], read, ct);
            Assert.True(read.RecordExists);
            Assert.Equal(states[i].ETag, read.ETag);
            Assert.Equal($"second {grains[i]}", Assert.Single(read.State!.Months));
        }
    }

    /// <summary>
    /// A flush tick's writes reach the storage one after another, over as long as the grains take
    /// to serialize them: a write that joins within a linger of the one before goes in the same
    /// transaction, even once the first write has waited longer than one linger. (Before, the first
    /// write waited one linger and went with what had come by then.)
    /// </summary>
    [Fact]
    public async Task Writes_that_keep_joining_within_a_linger_of_each_other_go_in_one_transaction()
    {
        var ct = TestContext.Current.CancellationToken;
        var linger = TimeSpan.FromSeconds(5);
        var (storage, requests, _) = await StatisticsStorageOnAzurite.StartAsync(azurite, "groupburst", linger, ct);
        var grains = GrainsOfOnePartition(1, 16);
        var states = grains.Select(grain => State($"burst {grain}")).ToList();

        // Each half a second after the one before: the last joins 7.5 s after the first, beyond a
        // linger of it (a pause of up to 4.5 s between two, a loaded machine's, still joins).
        var writes = await WriteOneAfterAnotherAsync(storage, grains, states, linger / 10, ct);

        await Task.WhenAll(writes);
        Assert.Equal(new[] { "$batch" }, Targets(requests));
    }

    /// <summary>
    /// A steady trickle of writes, each within a linger of the one before, does not hold the first
    /// back until the trickle ends: it goes after at most <see cref="PartitionGroupCommit.MaxLingers"/> lingers.
    /// </summary>
    [Fact]
    public async Task A_steady_trickle_of_writes_does_not_hold_the_first_back()
    {
        var ct = TestContext.Current.CancellationToken;
        var linger = TimeSpan.FromMilliseconds(100);
        var (storage, _, _) = await StatisticsStorageOnAzurite.StartAsync(azurite, "grouptrickle", linger, ct);
        // Fewer than a full transaction, which would send the first write whatever the lingers.
        var grains = GrainsOfOnePartition(1, TableLimits.MaxEntitiesPerTransaction - 1);
        var states = grains.Select(grain => State($"trickle {grain}")).ToList();

        // One write every half linger until the first has landed, for up to five times as long as it
        // may wait (99 × 50 ms): held back until the trickle ended, it would land after the last.
        var writes = new List<Task>();
        for (var i = 0; i < grains.Count && !(i > 0 && writes[0].IsCompleted); i++)
        {
            if (i > 0)
            {
                await Task.Delay(linger / 2, ct);
            }

            writes.Add(storage.WriteStateAsync("day", grains[i], states[i], ct));
        }

        Assert.True(writes[0].IsCompletedSuccessfully, $"The first write was still held back when the last of {writes.Count} joined.");
        await Task.WhenAll(writes);
    }

    [Fact]
    public async Task A_row_changed_or_added_behind_a_grain_fails_that_grain_alone_and_the_others_land()
    {
        var ct = TestContext.Current.CancellationToken;
        var (storage, requests, table) = await StartAsync(ct);
        var grains = GrainsOfOnePartition(1, 10);
        var states = grains.Select(grain => State("first")).ToList();
        await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync("day", grain, states[i], ct)));

        // Grain 3's row changes behind it (412); grain 7 believes its row new (409).
        var changed = (await table.GetEntityAsync<TableEntity>(ProjectionStateKeys.PartitionKey(ServiceId, grains[3]), ProjectionStateKeys.RowKey(grains[3], "day"), cancellationToken: ct)).Value;
        await table.UpdateEntityAsync(changed, ETag.All, TableUpdateMode.Replace, ct);
        states[7].ETag = null;
        requests.Reset();
        foreach (var state in states)
        {
            state.State!.Months = ["second"];
        }

        var writes = grains.Select((grain, i) => storage.WriteStateAsync("day", grain, states[i], ct)).ToList();
        await Assert.ThrowsAnyAsync<Exception>(() => Task.WhenAll(writes));

        Assert.IsType<InconsistentStateException>(writes[3].Exception?.InnerException, exactMatch: false);
        Assert.IsType<InconsistentStateException>(writes[7].Exception?.InnerException, exactMatch: false);
        Assert.Equal(8, writes.Count(write => write.IsCompletedSuccessfully));
        Assert.Equal(new[] { "$batch", "$batch", "$batch" }, Targets(requests)); // the failed action of each refusal leaves, the rest go again
        for (var i = 0; i < grains.Count; i++)
        {
            var read = new GrainState<StatsCatalogState>();
            await storage.ReadStateAsync("day", grains[i], read, ct);
            Assert.Equal(i is 3 or 7 ? "first" : "second", Assert.Single(read.State!.Months));
        }
    }

    /// <summary>
    /// Two activations of one grain (a rolling restart keeps an old one flushing a moment after a new
    /// one loaded): the second to write is refused, and reading the row again tells it that another
    /// activation wrote it (it once wrote over that activation's state). Its own write whose answer
    /// was lost is refused too, and reading the row again finds it its own, to write over.
    /// </summary>
    [Fact]
    public async Task A_write_refused_after_another_activation_wrote_is_told_apart_from_its_own_lost_answer()
    {
        var ct = TestContext.Current.CancellationToken;
        var lost = new LostAnswer();
        var (storage, _, _) = await StatisticsStorageOnAzurite.StartAsync(azurite, "superseded", TimeSpan.Zero, ct, lost);
        var grain = GrainsOfOnePartition(1, 1)[0];
        var old = State("old");
        await storage.WriteStateAsync("catalog", grain, old, ct);
        var replacing = new GrainState<StatsCatalogState>();
        await storage.ReadStateAsync("catalog", grain, replacing, ct);
        replacing.State!.Months = ["new"];
        await storage.WriteStateAsync("catalog", grain, replacing, ct);

        old.State!.Months = ["old, later"];
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("catalog", grain, old, ct));
        await Assert.ThrowsAsync<ProjectionSupersededException>(() => storage.ReadStateAsync("catalog", grain, old, ct));
        Assert.Equal(["old, later"], old.State!.Months); // the refused read left the state alone

        replacing.State!.Months = ["new, landed"];
        lost.Arm();
        await Assert.ThrowsAnyAsync<Exception>(() => storage.WriteStateAsync("catalog", grain, replacing, ct));
        replacing.State!.Months = ["new, after"];
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("catalog", grain, replacing, ct));
        var mine = replacing.State;
        await storage.ReadStateAsync("catalog", grain, replacing, ct);
        replacing.State = mine;
        await storage.WriteStateAsync("catalog", grain, replacing, ct);

        var read = new GrainState<StatsCatalogState>();
        await storage.ReadStateAsync("catalog", grain, read, ct);
        Assert.Equal(["new, after"], read.State!.Months);
    }

    [Fact]
    public async Task Writes_beyond_one_transaction_of_4_MiB_are_split_and_all_land()
    {
        var ct = TestContext.Current.CancellationToken;
        var (storage, requests, _) = await StartAsync(ct);
        var grains = GrainsOfOnePartition(1, 8);

        // About 700 KiB each (about 930 KiB as base64 in the request): four to a transaction.
        var states = grains.Select((grain, i) => State(new string((char)('a' + i), 700 * 1024))).ToList();
        await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync("day", grain, states[i], ct)));

        Assert.Equal(new[] { "$batch", "$batch" }, Targets(requests));
        for (var i = 0; i < grains.Count; i++)
        {
            var read = new GrainState<StatsCatalogState>();
            await storage.ReadStateAsync("day", grains[i], read, ct);
            Assert.Equal(700 * 1024, Assert.Single(read.State!.Months).Length);
        }
    }

    /// <summary>
    /// A state beyond what the storage writes (15 properties of 64 KiB) fails its own grain, with
    /// words that <see cref="ProjectionStateTooLargeException.IsCause"/> knows, and the rest of its
    /// group lands. (A state the service itself refuses, which Azurite does not do below that size,
    /// is written alone for the service's own answer, whose error code IsCause reads.)
    /// </summary>
    [Fact]
    public async Task A_state_beyond_its_entity_says_so_and_the_rest_of_its_group_lands()
    {
        var ct = TestContext.Current.CancellationToken;
        var (storage, _, _) = await StartAsync(ct);
        var grains = GrainsOfOnePartition(1, 3);

        var tooLarge = storage.WriteStateAsync("day", grains[0], State(new string('x', 1100 * 1024)), ct);
        var small = grains.Skip(1).Select(grain => storage.WriteStateAsync("day", grain, State("small"), ct)).ToList();

        Assert.True(ProjectionStateTooLargeException.IsCause(await Assert.ThrowsAnyAsync<Exception>(() => tooLarge)));
        await Task.WhenAll(small);
    }

    [Fact]
    public async Task A_cancelled_write_that_waits_is_withdrawn_and_the_others_land()
    {
        var ct = TestContext.Current.CancellationToken;
        var (storage, requests, table) = await StartAsync(ct);
        var grains = GrainsOfOnePartition(1, 3);
        using var cancelled = new CancellationTokenSource();

        var withdrawn = storage.WriteStateAsync("day", grains[0], State("withdrawn"), cancelled.Token);
        var others = grains.Skip(1).Select(grain => storage.WriteStateAsync("day", grain, State("kept"), ct)).ToList();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);
        await Task.WhenAll(others);
        Assert.Equal(new[] { "$batch" }, Targets(requests));
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(ProjectionStateKeys.PartitionKey(ServiceId, grains[0]), ProjectionStateKeys.RowKey(grains[0], "day"), cancellationToken: ct)).HasValue);
    }

    [Fact]
    public async Task Clearing_a_state_deletes_its_row()
    {
        var ct = TestContext.Current.CancellationToken;
        var (storage, requests, table) = await StartAsync(ct);
        var grain = GrainsOfOnePartition(1, 1)[0];
        var state = State("to clear");
        await storage.WriteStateAsync("day", grain, state, ct);

        await storage.ClearStateAsync("day", grain, state, ct);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Empty(state.State!.Months);
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(ProjectionStateKeys.PartitionKey(ServiceId, grain), ProjectionStateKeys.RowKey(grain, "day"), cancellationToken: ct)).HasValue);
        var read = new GrainState<StatsCatalogState>();
        await storage.ReadStateAsync("day", grain, read, ct);
        Assert.False(read.RecordExists);

        // A state never written has no row: clearing it sends nothing.
        requests.Reset();
        await storage.ClearStateAsync("day", grain, read, ct);
        Assert.Empty(requests.Sent);
    }

    /// <summary>The janitor of <paramref name="table"/> for <paramref name="service"/>, its requests counted by <paramref name="requests"/> when given.</summary>
    private ProjectionStateJanitor Janitor(TableClient table, string service, RequestCounter? requests = null) =>
        new(
            requests is null ? new TableServiceClient(azurite.ConnectionString) : new TableServiceClient(azurite.ConnectionString, StatisticsStorageOnAzurite.CountingOptions(requests)),
            Options.Create(new StatisticsOptions { TableName = table.Name }),
            Options.Create(new ClusterOptions { ServiceId = service }),
            NullLogger<ProjectionStateJanitor>.Instance);

    /// <summary>
    /// The janitor deletes one generation's rows, in this layout, in the one of layouts 5 and 6 (a few
    /// partitions per grain type) and in the one Orleans' table grain storage wrote until layout 4,
    /// and nothing else, by exact partitions (no query without one).
    /// </summary>
    [Fact]
    public async Task The_janitor_deletes_one_generation_only_without_scanning()
    {
        var ct = TestContext.Current.CancellationToken;
        var (storage, requests, table) = await StartAsync(ct);
        var grains = new List<GrainId>();
        foreach (var generation in new[] { 1, 2, 12 })
        {
            grains.AddRange(Enumerable.Range(0, 12).Select(i => GrainId.Create(ProjectionGrainTypes.Day, StatisticsKeys.Day(generation, i % 8, new DateOnly(2026, 1, 1).AddDays(i)))));
            grains.AddRange(Enumerable.Range(0, 12).Select(i => GrainId.Create(ProjectionGrainTypes.Customer, StatisticsKeys.Customer(generation, "customer." + i))));
            grains.Add(GrainId.Create(ProjectionGrainTypes.Catalog, StatisticsKeys.Global(generation)));
        }

        grains.Add(GrainId.Create("projectioncontrol", "0"));
        await Task.WhenAll(grains.Select(grain => storage.WriteStateAsync("state", grain, State(grain.ToString()), ct)));
        foreach (var legacy in new[] { "daystats_1_0_2026-01-01", "statscatalog_1", "daystats_12_0_2026-01-01", "daystats_2_0_2026-01-01", "daystats_1_3", "customerstats_1_0", "customerstats_12_0" })
        {
            await table.AddEntityAsync(new TableEntity(ServiceId + "_" + legacy, "day"), ct);
        }

        var janitor = Janitor(table, ServiceId, requests);
        requests.Reset();

        Assert.Equal(25 + 4, await janitor.DeleteGenerationAsync(1, ct));

        Assert.All(requests.SentWithQuery.Where(request => request.StartsWith("GET", StringComparison.Ordinal)),
            query => Assert.Contains("$filter=PartitionKey eq '", query, StringComparison.Ordinal));
        var left = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: ct))
        {
            left.Add(row.PartitionKey);
        }

        Assert.Equal(grains.Count - 25 + 3, left.Count);
        // "{service}_{generation}_{n}", and before layout 7 "{service}_{grain type}_{generation}…".
        Assert.DoesNotContain(left, key => key.Split('_') is [_, "1", _] || (key.Split('_') is [_, var type, "1", ..] && char.IsAsciiLetter(type[0])));
        Assert.Contains(left, key => key.Split('_') is [_, "12", _]);
        Assert.Contains(left, key => key.Split('_') is [_, "daystats", "12", ..]);
    }

    /// <summary>
    /// Review finding: the janitor read every row key of a partition into memory before deleting
    /// any (millions for a generation of many customers, and a rebuild's switch waits for it). It
    /// deletes a page's rows before it reads the next page.
    /// </summary>
    [Fact]
    public async Task The_janitor_deletes_a_page_of_rows_before_it_reads_the_next()
    {
        var ct = TestContext.Current.CancellationToken;
        var (_, requests, table) = await StartAsync(ct);
        var grain = GrainId.Create(ProjectionGrainTypes.Customer, StatisticsKeys.Customer(1, "many-rows"));
        var partition = ProjectionStateKeys.PartitionKey(ServiceId, grain);
        var rows = Enumerable.Range(0, 2_500).Select(i => new TableEntity(partition, string.Create(CultureInfo.InvariantCulture, $"row-{i:D5}"))).ToList();
        foreach (var chunk in rows.Chunk(TableLimits.MaxEntitiesPerTransaction))
        {
            await table.SubmitTransactionAsync(chunk.Select(row => new TableTransactionAction(TableTransactionActionType.Add, row)), ct);
        }

        var janitor = Janitor(table, ServiceId, requests);
        requests.Reset();

        Assert.Equal(2_500, await janitor.DeleteGenerationAsync(1, ct));

        var sent = requests.SentWithQuery;
        var pageReads = sent.Select((request, index) => (request, index))
            .Where(sent => sent.request.StartsWith("GET", StringComparison.Ordinal) && sent.request.Contains(partition, StringComparison.Ordinal))
            .Select(sent => sent.index)
            .ToList();
        Assert.Equal(3, pageReads.Count);
        Assert.Equal(10, sent.Skip(pageReads[0]).Take(pageReads[1] - pageReads[0]).Count(request => request.Contains("$batch", StringComparison.Ordinal)));
        Assert.Empty(await table.QueryAsync<TableEntity>(row => row.PartitionKey == partition, cancellationToken: ct).ToListAsync(ct));
    }

    /// <summary>
    /// A service id with a character outside [A-Za-z0-9_-] is encoded in the keys of layouts 5 to 7,
    /// not in those of layout 4: the janitor still finds a generation's rows of layouts 6 and 7, and
    /// leaves those of another generation.
    /// </summary>
    [Fact]
    public async Task The_janitor_deletes_the_rows_of_earlier_layouts_whatever_the_service_id()
    {
        var ct = TestContext.Current.CancellationToken;
        const string Service = "order.flow prod";
        var table = new TableClient(azurite.ConnectionString, TableNames.Unique("janitorsvc"));
        await table.CreateIfNotExistsAsync(ct);
        var encoded = KeyEncoding.Encode(Service);
        var layoutSix = new[] { ProjectionGrainTypes.Day + "_1_0", ProjectionGrainTypes.Customer + "_1_3", ProjectionGrainTypes.Day + "_2_0" };
        foreach (var partition in layoutSix)
        {
            await table.AddEntityAsync(new TableEntity(encoded + "_" + partition, "row"), ct);
        }

        var grains = new[] { 1, 2 }.Select(generation => GrainId.Create(ProjectionGrainTypes.Customer, StatisticsKeys.Customer(generation, "c"))).ToList();
        foreach (var grain in grains)
        {
            await table.AddEntityAsync(new TableEntity(ProjectionStateKeys.PartitionKey(Service, grain), ProjectionStateKeys.RowKey(grain, "customer")), ct);
        }

        var janitor = Janitor(table, Service);

        Assert.Equal(3, await janitor.DeleteGenerationAsync(1, ct));
        var left = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: ct))
        {
            left.Add(row.PartitionKey);
        }

        Assert.Equal(
            new[] { encoded + "_" + ProjectionGrainTypes.Day + "_2_0", ProjectionStateKeys.PartitionKey(Service, grains[1]) }.Order(StringComparer.Ordinal),
            left.Order(StringComparer.Ordinal));
    }

    /// <summary>Starts each grain's write <paramref name="pause"/> after the one before; the writes, in order, once the last has started.</summary>
    private static async Task<List<Task>> WriteOneAfterAnotherAsync(
        StatisticsGrainStorage storage, List<GrainId> grains, List<GrainState<StatsCatalogState>> states, TimeSpan pause, CancellationToken ct)
    {
        var writes = new List<Task>();
        for (var i = 0; i < grains.Count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(pause, ct);
            }

            writes.Add(storage.WriteStateAsync("day", grains[i], states[i], ct));
        }

        return writes;
    }

    private static GrainState<StatsCatalogState> State(string month) => new() { State = new StatsCatalogState { Months = [month] } };

    /// <summary>Day grains of <paramref name="generation"/> whose state falls in the partition of the first.</summary>
    private static List<GrainId> GrainsOfOnePartition(int generation, int count)
    {
        var grains = Enumerable.Range(0, 10_000)
            .Select(i => GrainId.Create(ProjectionGrainTypes.Day, StatisticsKeys.Day(generation, i % 8, new DateOnly(2026, 1, 1).AddDays(i / 8))));
        var partition = ProjectionStateKeys.PartitionKey(ServiceId, grains.First());
        return [.. grains.Where(grain => ProjectionStateKeys.PartitionKey(ServiceId, grain) == partition).Take(count)];
    }

    /// <summary>What each request addressed: "$batch" for a transaction, else the table.</summary>
    private static List<string> Targets(RequestCounter requests) =>
        [.. requests.Sent.Select(request => request.Split('/')[^1] switch { var last when last.Contains('(', StringComparison.Ordinal) => last[..last.IndexOf('(', StringComparison.Ordinal)], var last => last })];

    private Task<(StatisticsGrainStorage Storage, RequestCounter Requests, TableClient Table)> StartAsync(CancellationToken ct) =>
        StatisticsStorageOnAzurite.StartAsync(azurite, "groupcommit", Linger, ct);
}
