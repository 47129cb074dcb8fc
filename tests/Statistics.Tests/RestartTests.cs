using System.Diagnostics;
using System.Globalization;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>Projection state lives in table storage: a new cluster on the same tables answers exactly as the old one did.</summary>
public sealed class RestartTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Statistics_survive_a_restart_and_redelivered_events_are_still_counted_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper;
        var day0 = TestClock.Day0;
        var seed = Environment.TickCount;
        output?.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var generator = new ScenarioGenerator(random, [.. Enumerable.Range(1, 6).Select(i => string.Create(CultureInfo.InvariantCulture, $"RS-SKU-{i}"))]);
        var tables = ClusterTables.Unique("rs");
        var check = new CheckPlan(
            [
                (null, null),
                (day0.AddHours(6).AddMinutes(1), day0.AddHours(30).AddMinutes(59)),
                (day0.AddDays(1), day0.AddDays(2)),
                (day0.AddHours(49).AddMinutes(12), day0.AddHours(49).AddMinutes(58)),
            ],
            [
                (day0.AddHours(23), day0.AddHours(25), StatsInterval.Minute),
                (day0, day0.AddDays(1), StatsInterval.Hour),
                (day0, day0.AddDays(3), StatsInterval.Day),
            ],
            [10, 1000]);

        var plans = Enumerable.Range(0, 24).Select(i => generator.Order(
                string.Create(CultureInfo.InvariantCulture, $"rs-{i:D2}"),
                string.Create(CultureInfo.InvariantCulture, $"rs-customer-{random.Next(4)}"),
                i % 2 == 0 ? "EUR" : "USD",
                ScenarioGenerator.Lifecycles[i % ScenarioGenerator.Lifecycles.Length],
                generator.RandomTime(day0, TimeSpan.FromHours(56))))
            .Concat(Enumerable.Range(0, 6).Select(i => generator.Order(
                string.Create(CultureInfo.InvariantCulture, $"rs-burst-{i}"), "rs-burst", "EUR", Lifecycle.Delivered,
                day0.AddHours(40).AddMinutes(1).AddSeconds(i * 45))))
            .ToList();

        Expected expected;
        string before;
        var watch = Stopwatch.StartNew();
        await using (var first = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct))
        {
            await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
                async (plan, _) => await first.ExecuteAsync(plan));
            expected = await first.ExpectedFromLogAsync(ct);
            await StatsCheck.AssertConvergesAsync(first.Reader, expected, check, TimeSpan.FromSeconds(30), ct, "statistics before the restart");
            before = await StatsCheck.SnapshotAsync(first.Reader, expected.Customers, check, ct);
        }

        output?.WriteLine($"first cluster done in {watch.Elapsed.TotalSeconds:0.0} s");
        await using var second = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct);

        // The first answers of the new cluster, read from storage: identical, figure for figure.
        var after = await StatsCheck.SnapshotAsync(second.Reader, expected.Customers, check, ct);
        Assert.True(before == after, "The statistics changed across the restart:\n  " + StatsCheck.SnapshotDiff(before, after));
        await StatsCheck.AssertConvergesAsync(second.Reader, expected, check, TimeSpan.Zero, ct, "statistics right after the restart");

        // What each projection had counted survived too: every event delivered again is still counted once.
        foreach (var envelopes in (await second.ReadLogAsync(ct)).Values.Select(StatsCluster.Envelopes))
        {
            foreach (var envelope in envelopes)
            {
                await second.PublishAsync(envelope);
            }
        }

        foreach (var shard in Enumerable.Range(0, OrderEventStreams.ShardCount))
        {
            await second.ExecuteAsync(generator.Order(StatsCluster.IdOnShard("rs-sentinel", shard), "rs-sentinel", "EUR", Lifecycle.Paid, day0.AddHours(60).AddMinutes(shard)));
        }

        expected = await second.ExpectedFromLogAsync(ct);
        await StatsCheck.AssertConvergesAsync(second.Reader, expected, check, TimeSpan.FromSeconds(30), ct, "statistics after redelivering everything to the restarted cluster");
        output?.WriteLine($"done in {watch.Elapsed.TotalSeconds:0.0} s");
    }
}
