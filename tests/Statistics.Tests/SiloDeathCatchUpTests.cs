using System.Diagnostics;
using System.Globalization;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.TestingHost;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Rebuild;
using OrderFlow.Grains.Projections.Reconciliation;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics;
using OrderFlow.Projections;
using OrderFlow.Silo;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// When a silo of a cluster dies, the statistics catch up with the log at once
/// (<see cref="SiloDeathWatch"/>, <see cref="IProjectionReconcilerGrain.CatchUp"/>), not after the
/// reconciliation's settling time. Every projection holds its counts in memory for an hour here and
/// no change settles within the test, so only the catch-up can bring back what the killed silo's
/// projections had counted: without it these tests time out.
/// </summary>
public sealed class SiloDeathCatchUpTests(AzuriteFixture azurite)
{
    private static readonly string[] Skus = [.. Enumerable.Range(1, 5).Select(i => string.Create(CultureInfo.InvariantCulture, $"SD-SKU-{i}"))];

    /// <summary>The regular reconciliation runs (it is what turns the death watch on), but nothing settles within the test.</summary>
    private static readonly Dictionary<string, string?> CatchUpOnly = new()
    {
        ["Statistics:FlushInterval"] = StatsCluster.NoFlushTick,
        ["Statistics:Reconciliation:Settle"] = "06:00:00",
    };

    /// <summary>Projection grains whose counts stay in memory until they flush.</summary>
    private static readonly string[] WriteBehindTypes = [ProjectionGrainTypes.Day, ProjectionGrainTypes.Customer, ProjectionGrainTypes.StuckOrders];

    [Fact]
    public async Task Counts_a_killed_silo_held_in_memory_are_restored_at_once_with_memory_streams()
    {
        var ct = TestContext.Current.CancellationToken;
        await KillOneOfThreeAsync("sdm", CatchUpOnly, ct);
    }

    [Fact]
    public async Task Counts_a_killed_silo_held_in_memory_are_restored_at_once_with_azure_queue_streams()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var queues = await Azurite.StartQueuesAsync(ct);
        await KillOneOfThreeAsync("sdq", new Dictionary<string, string?>(CatchUpOnly)
        {
            [OrderFlowSiloExtensions.StreamsProviderKey] = "AzureQueue",
            ["ConnectionStrings:Queues"] = queues.ConnectionString,

            // The queues are dealt out by the silos' places on a hash ring: the default 4 all went
            // to one silo in a CI run (about 1 run in 27, 3 × (1/3)^4), leaving no other silo to hold
            // projections; 12 all go to one in about 1 run in 177,000.
            ["Streams:QueueCount"] = "12",
        }, ct, queues.ConnectionString);
    }

    /// <summary>However many silos report a death, and however often, it is caught up with once.</summary>
    [Fact]
    public async Task A_dead_silo_reported_by_every_survivor_gets_one_catch_up_pass()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("sdd"), ct, CatchUpOnly);
        var reconciler = cluster.Client.GetGrain<IProjectionReconcilerGrain>(0);
        var dead = SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), 1);

        // Three observers at once, then one late.
        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => reconciler.CatchUp([dead], 0)));
        Assert.Equal(1, answers.Count(started => started));
        await Eventually.UntilAsync(async () => (await reconciler.CatchUps()).Passes == 1, "the catch-up pass", ct);
        Assert.False(await reconciler.CatchUp([dead], 0));

        // Another death is another pass, and the first is not handled again with it.
        var other = SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 2), 1);
        Assert.True(await reconciler.CatchUp([dead, other], 0));
        await Eventually.UntilAsync(async () => (await reconciler.CatchUps()).Passes == 2, "the second catch-up pass", ct);
        var report = await reconciler.CatchUps();
        Assert.Equal(2, report.Silos);
        Assert.Equal(2, report.Passes);
    }

    /// <summary>
    /// A rebuild runs in its grain's memory. When its silo dies, it starts again elsewhere (the
    /// catch-up resumes it at once; the projection control's watch would within a minute) and
    /// completes, instead of staying "running" and refusing every later rebuild.
    /// </summary>
    [Fact]
    public async Task A_rebuild_whose_silo_died_runs_again_and_completes()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper;
        var day0 = TestClock.Day0;
        var generator = new ScenarioGenerator(new Random(29), Skus);
        var gate = new RebuildGate(generation: 2);
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("sdr"), ct, CatchUpOnly,
            configureSilo: silo => silo.AddIncomingGrainCallFilter(gate), silos: 3);
        foreach (var i in Enumerable.Range(0, 6))
        {
            await cluster.ExecuteAsync(generator.Order(
                string.Create(CultureInfo.InvariantCulture, $"sdr-{i}"), "sdr-customer", "EUR", ScenarioGenerator.Lifecycles[i % ScenarioGenerator.Lifecycles.Length], day0.AddHours(10 + i)));
        }

        // The rebuild holds at its first batch: it cannot complete before its silo is killed.
        var projections = cluster.Client.GetGrain<IProjectionsGrain>(0);
        var (started, _) = await projections.StartRebuild();
        Assert.Equal(2, started.Generation);
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(60), ct);
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var rebuilder = (await management.GetDetailedGrainStatistics(null, null, ct))
            .Single(g => g.GrainType.Contains(nameof(ProjectionRebuildGrain), StringComparison.Ordinal));
        var victim = cluster.Silos.Single(silo => silo.SiloAddress.Equals(rebuilder.SiloAddress));

        var watch = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        gate.Open();
        RebuildStatus? status;
        do
        {
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(3), "The rebuild whose silo died did not complete within 3 minutes.");
            await Task.Delay(200, ct);
            status = await projections.GetRebuild(started.Id);
        }
        while (status?.State == RebuildState.Running);

        output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebuild {started.Id} completed {watch.Elapsed.TotalSeconds:0.0} s after its silo was killed: {status}"));
        Assert.Equal(RebuildState.Completed, status!.State);
        Assert.Equal(2, await cluster.Client.GetGrain<IProjectionControl>(0).Active());
        await StatsCheck.AssertConvergesAsync(cluster.Reader, await cluster.ExpectedFromLogAsync(ct), ReconciliationTests.PlanFor(day0), TimeSpan.FromSeconds(60), ct, "statistics of the rebuilt generation");
    }

    /// <param name="queues">With Azure Queue streams: their connection string, to check that what the dead silo had taken from its queues is delivered by the others, and counted once.</param>
    private async Task KillOneOfThreeAsync(string prefix, IReadOnlyDictionary<string, string?> settings, CancellationToken ct, string? queues = null)
    {
        var output = TestContext.Current.TestOutputHelper;
        var day0 = TestClock.Day0;
        var random = new Random(23);
        var generator = new ScenarioGenerator(random, Skus);

        // Forty orders of eight customers; a later round has customers of its own, so that its
        // projections are activated anew (where its events are delivered).
        List<OrderPlan> Round(int round)
        {
            var name = round == 0 ? prefix : string.Create(CultureInfo.InvariantCulture, $"{prefix}-r{round}");
            return [.. Enumerable.Range(0, 40).Select(i => generator.Order(
                string.Create(CultureInfo.InvariantCulture, $"{name}-{i:D2}"),
                string.Create(CultureInfo.InvariantCulture, $"{name}-customer-{random.Next(8)}"),
                i % 3 == 0 ? "USD" : "EUR",
                generator.AnyLifecycle(),
                generator.RandomTime(day0, TimeSpan.FromHours(50))))];
        }

        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique(prefix), ct, settings, silos: 3);

        // Projections are placed where their events are delivered: until the stream queues are spread
        // over the silos, the first silo (which took them all when it started alone) delivers every
        // event. Two silos pulling is enough for a silo that may be killed to hold projections; each of
        // the three need not (the queues are dealt out by the silos' places on a hash ring, and a CI
        // run under load saw the wait for all three time out, in both variants, after 90 s). There
        // must be enough queues that they do not all fall to one silo (the Azure queue variant's 12).
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var lastAnswer = "no answer";
        async Task<bool> QueuesSpreadAsync()
        {
            try
            {
                var agents = await management.SendControlCommandToProvider<PersistentStreamProvider>(
                    OrderEventStreams.ProviderName, (int)PersistentStreamProviderCommand.GetNumberRunningAgents, null, ct);
                lastAnswer = "pulling agents per silo: " + string.Join(", ", agents);
                return agents.Count(running => running is int count && count > 0) >= 2;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                lastAnswer = exception.Message;
                return false; // a silo busy starting did not answer: asked again
            }
        }

        await Eventually.UntilAsync(QueuesSpreadAsync, "two silos to pull from the stream queues", ct, TimeSpan.FromSeconds(90), () => lastAnswer);

        // The victim: the silo (not the first, which the client started with) holding the most
        // unflushed projections. Queues spread over the silos while the first round is delivered
        // may still have had every event of it delivered by the first silo (a CI run saw none
        // elsewhere): another round is placed until a silo that may be killed holds projections.
        Dictionary<SiloAddress, int> projections;
        Expected expected;
        var round = 0;
        do
        {
            await Parallel.ForEachAsync(Round(round++), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (plan, _) => await cluster.ExecuteAsync(plan));
            expected = await cluster.ExpectedFromLogAsync(ct);
            await ReconciliationTests.WaitUntilDeliveredAsync(cluster, expected, ct);
            projections = (await management.GetDetailedGrainStatistics(null, null, ct))
                .Where(g => WriteBehindTypes.Contains(g.GrainId.Type.ToString()))
                .GroupBy(g => g.SiloAddress)
                .ToDictionary(g => g.Key, g => g.Count());
        }
        while (round < 5 && cluster.Silos.Skip(1).All(silo => projections.GetValueOrDefault(silo.SiloAddress) == 0));

        var victim = cluster.Silos.Skip(1).MaxBy(silo => projections.GetValueOrDefault(silo.SiloAddress))!;
        var held = projections.GetValueOrDefault(victim.SiloAddress);
        Assert.True(held > 0, $"No projection was placed on the silos that may be killed after {round} rounds of orders, so killing one shows nothing.");

        // The survivors' projections persist now: what is missing after the kill is what the victim held.
        foreach (var survivor in (await management.GetDetailedGrainStatistics(null, null, ct))
            .Where(g => WriteBehindTypes.Contains(g.GrainId.Type.ToString()) && !g.SiloAddress.Equals(victim.SiloAddress)))
        {
            await cluster.Client.GetGrain<IWriteBehindProjection>(survivor.GrainId).Flush();
        }

        var watch = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        var convergence = await StatsCheck.AssertConvergesAsync(cluster.Reader, expected, ReconciliationTests.PlanFor(day0), TimeSpan.FromSeconds(90), ct, "statistics after the silo died");
        var converged = watch.Elapsed;

        var report = await cluster.Client.GetGrain<IProjectionReconcilerGrain>(0).CatchUps();
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"killed {victim.SiloAddress} holding {held} of {projections.Values.Sum()} projections; statistics equal the fold {converged.TotalSeconds:0.0} s after the kill ({convergence}); catch-up: {report}"));
        Assert.Equal(1, report.Silos);
        Assert.Equal(1, report.Passes);
        Assert.True(report.Last!.Events > 0, $"The catch-up fed nothing: {report.Last}");
        Assert.Equal(0, report.Last.Failed);

        if (queues is not null)
        {
            // A message is deleted once delivered; one the dead silo had taken comes back after its visibility timeout.
            await Eventually.UntilAsync(async () => await MessagesInQueuesAsync(queues, ct) == 0, "the queues to be emptied", ct, TimeSpan.FromSeconds(120));
            await StatsCheck.AssertConvergesAsync(cluster.Reader, expected, ReconciliationTests.PlanFor(day0), TimeSpan.Zero, ct, "statistics once the queues are empty");
        }
    }

    /// <summary>Messages in every queue, those taken by a receiver and not yet deleted included.</summary>
    private static async Task<int> MessagesInQueuesAsync(string connectionString, CancellationToken ct)
    {
        var service = new Azure.Storage.Queues.QueueServiceClient(connectionString);
        var messages = 0;
        await foreach (var queue in service.GetQueuesAsync(cancellationToken: ct))
        {
            messages += (await service.GetQueueClient(queue.Name).GetPropertiesAsync(ct)).Value.ApproximateMessagesCount;
        }

        return messages;
    }

    /// <summary>Holds every batch a rebuild (or anyone) persists into <paramref name="generation"/> until <see cref="Open"/>; live ingestion passes.</summary>
    private sealed class RebuildGate(int generation) : IIncomingGrainCallFilter
    {
        private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => reached.Task;

        public void Open() => opened.TrySetResult();

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == nameof(IWriteBehindProjection.IngestAndPersist)
                && StatisticsKeys.GenerationOf(context.TargetId.Key.ToString()!) == generation)
            {
                reached.TrySetResult();
                await opened.Task;
            }

            await context.Invoke();
        }
    }
}
