using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using OrderFlow.Api.Admin;
using OrderFlow.Cluster.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Cluster.Tests;

/// <summary>
/// Issue 10 on real processes: <c>./run.sh --silos 3</c> (Azurite, three silo processes on Azure
/// Table clustering, the API as their client) over real TCP. Each test first restarts any silo a
/// test before it left dead, so they hold in any order.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class ClusterTests(LocalCluster cluster)
{
    /// <summary>
    /// The bound for statistics after a silo's death: equal to a fold over the log within
    /// 10 s, counted from the later of the death's detection and the load's end (commands
    /// acknowledged after the kill cannot be counted before they are made).
    /// </summary>
    private static readonly TimeSpan CatchUpBound = TimeSpan.FromSeconds(10);

    private static readonly DateTimeOffset Day = new(DateTime.UtcNow.Date.AddDays(-2), TimeSpan.Zero);

    [Fact]
    public async Task Commands_spread_over_every_silo()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.EnsureAllSilosRunAsync();
        var load = new OrderLoad(cluster, Run(), Day);
        await load.RunAsync(maxOrders: 60, concurrency: 6, ct);
        LoadChecks.AssertAnswers(load);

        var report = await cluster.ClusterAsync();
        var active = report.Silos.Where(s => s.Status == "Active").ToList();
        foreach (var silo in active)
        {
            Log($"silo on port {silo.SiloPort}: {OrderActivations(silo)} order activations, {silo.Activations} in all");
        }

        Assert.Equal(LocalCluster.Silos, active.Count);
        Assert.All(active, silo => Assert.True(OrderActivations(silo) > 0, $"The silo on port {silo.SiloPort} holds no order activation."));
        Assert.True(active.Sum(OrderActivations) >= load.Orders.Count, "Fewer order activations than orders just sent.");
    }

    [Fact]
    public async Task A_silo_killed_under_load_loses_and_duplicates_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.EnsureAllSilosRunAsync();
        var victim = (await cluster.ClusterAsync()).Silos.Single(s => s.Status == "Active" && s.SiloPort == cluster.SiloPortOf(2));
        var load = new OrderLoad(cluster, Run(), Day);
        var running = load.RunAsync(maxOrders: 120, concurrency: 8, ct);
        await LocalCluster.WaitUntilAsync("a third of the load acknowledged", TimeSpan.FromMinutes(1), () => Task.FromResult(load.Acknowledged >= 160 || running.IsCompleted));
        Assert.False(running.IsCompleted, "The load ended before the kill; make it longer.");

        cluster.Signal("silo-2", "KILL");
        var sinceKill = Stopwatch.StartNew();
        await LocalCluster.WaitUntilAsync("the cluster to declare silo-2 dead", TimeSpan.FromMinutes(1), async () =>
            (await cluster.TryClusterAsync())?.Silos.Single(s => s.Address == victim.Address).Status == "Dead");
        var detected = sinceKill.Elapsed;
        await running;
        var loadEnded = sinceKill.Elapsed;
        Log($"load: {LoadChecks.Summary(load)}");
        Log(string.Create(CultureInfo.InvariantCulture,
            $"silo-2 killed (SIGKILL); declared dead {detected.TotalSeconds:0.0} s later; the load ended {loadEnded.TotalSeconds:0.0} s after the kill"));

        LoadChecks.AssertAnswers(load);
        var deadline = (detected > loadEnded ? detected : loadEnded) + CatchUpBound - sinceKill.Elapsed;
        var convergence = await LoadChecks.AssertStatisticsConvergeAsync(cluster, Day, deadline, ct);
        Log(string.Create(CultureInfo.InvariantCulture,
            $"statistics equal the fold over the log {sinceKill.Elapsed.TotalSeconds:0.0} s after the kill ({convergence})"));
        await LoadChecks.AssertLogHoldsExactlyTheAcknowledgedAsync(cluster, load, ct);
    }

    [Fact]
    public async Task A_rolling_restart_under_load_loses_and_duplicates_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.EnsureAllSilosRunAsync();
        var load = new OrderLoad(cluster, Run(), Day);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var running = load.RunAsync(maxOrders: 5000, concurrency: 6, stop.Token);
        await LocalCluster.WaitUntilAsync("the load under way", TimeSpan.FromMinutes(1), () => Task.FromResult(load.Acknowledged >= 40 || running.IsCompleted));

        for (var silo = 1; silo <= LocalCluster.Silos; silo++)
        {
            var before = (await cluster.ClusterAsync()).Silos.Single(s => s.Status == "Active" && s.SiloPort == cluster.SiloPortOf(silo));
            var watch = Stopwatch.StartNew();
            var pid = cluster.Signal($"silo-{silo}", "TERM");
            await LocalCluster.WaitForExitAsync(pid, TimeSpan.FromSeconds(60));
            var stopped = watch.Elapsed;
            await cluster.AddSiloAsync(silo);
            var port = cluster.SiloPortOf(silo);
            await LocalCluster.WaitUntilAsync($"silo-{silo} to join again", TimeSpan.FromMinutes(1), async () =>
                (await cluster.TryClusterAsync())?.Silos.Any(s => s.Status == "Active" && s.SiloPort == port && s.Address != before.Address) == true);
            Log(string.Create(CultureInfo.InvariantCulture, $"silo-{silo}: stopped {stopped.TotalSeconds:0.0} s after SIGTERM, active again {watch.Elapsed.TotalSeconds:0.0} s after it"));
        }

        await stop.CancelAsync();
        await running;
        Log($"load: {LoadChecks.Summary(load)}");
        Assert.True(running.IsCompletedSuccessfully);

        LoadChecks.AssertAnswers(load);
        var convergence = await LoadChecks.AssertStatisticsConvergeAsync(cluster, Day, CatchUpBound, ct);
        Log($"statistics equal the fold over the log {convergence} after the load ended");
        await LoadChecks.AssertLogHoldsExactlyTheAcknowledgedAsync(cluster, load, ct);
    }

    [Fact]
    public async Task A_silo_of_another_cluster_id_stays_out_of_the_cluster()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.EnsureAllSilosRunAsync();
        var foreignId = "foreign-" + Run();

        // Rows already there are left out: other tests of the shared cluster start silos on silo 4's ports too.
        var earlierSilos = (await cluster.ClusterAsync()).Silos.Select(s => s.Address).ToHashSet();
        var earlierRows = MembershipRows().Select(r => r.PartitionKey + "/" + r.RowKey).ToHashSet();

        // Silo 4's ports, another cluster id, the same membership table; data of its own: its own
        // tables, and memory streams, so its pulling agents take none of the real cluster's queue
        // messages and its projections write none of its statistics.
        await cluster.AddSiloAsync(4, new Dictionary<string, string>
        {
            ["Orleans__ClusterId"] = foreignId,
            ["EventStore__TableName"] = TableNames.Unique("foreignev"),
            ["Statistics__TableName"] = TableNames.Unique("foreignst"),
            ["Streams__Provider"] = "Memory",
        });
        try
        {
            // Once it is active in a membership of its own, it has chosen its cluster.
            await LocalCluster.WaitUntilAsync("the foreign silo active in its own membership", TimeSpan.FromMinutes(1), () =>
                Task.FromResult(MembershipRows().Any(r => r.PartitionKey.Contains(foreignId, StringComparison.Ordinal)
                    && r.GetString("Status") == "Active")));

            // Neither membership lists a silo of the other.
            var report = await cluster.ClusterAsync();
            Assert.DoesNotContain(report.Silos, s => s.SiloPort == cluster.SiloPortOf(4) && !earlierSilos.Contains(s.Address));
            Assert.Equal(LocalCluster.Silos, report.Silos.Count(s => s.Status == "Active"));
            var foreignPort = cluster.SiloPortOf(4).ToString(CultureInfo.InvariantCulture);
            var silos = MembershipRows().Where(r => r.ContainsKey("Port") && !earlierRows.Contains(r.PartitionKey + "/" + r.RowKey)).ToList();
            Assert.Contains(silos, r => r.PartitionKey.Contains(foreignId, StringComparison.Ordinal));
            Assert.All(silos, r => Assert.Equal(
                r.PartitionKey.Contains(foreignId, StringComparison.Ordinal), Convert.ToString(r["Port"], CultureInfo.InvariantCulture) == foreignPort));
        }
        finally
        {
            var pid = cluster.Signal("silo-4", "TERM");
            await LocalCluster.WaitForExitAsync(pid, TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task Adding_a_silo_that_runs_already_says_so()
    {
        await cluster.EnsureAllSilosRunAsync();
        var pid = cluster.PidOf("silo-1");

        var result = await cluster.RunToEndAsync("--add-silo", "1", "--no-build");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"silo-1 runs already (pid {pid}", result.Output, StringComparison.Ordinal);
        Assert.True(cluster.IsAlive("silo-1"));
    }

    private List<TableEntity> MembershipRows()
    {
        return [.. new TableClient(cluster.StorageConnection, "OrleansSiloInstances").Query<TableEntity>()];
    }

    private static int OrderActivations(ClusterSilo silo) =>
        silo.ActivationsByGrainType.Where(t => t.Key.Contains(".OrderGrain,", StringComparison.Ordinal)).Sum(t => t.Value);

    private static string Run() => Guid.NewGuid().ToString("N")[..8];

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}
