using System.Globalization;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// A publication that fails after its append (the stream refuses it) is owed by the order's
/// activation, whatever the marker stored with the append says: it goes out, in version order,
/// with the order's next command. The reconciliation is off, so nothing else could deliver it.
/// </summary>
public sealed class FailedPublicationTests(AzuriteFixture azurite)
{
    private static readonly string[] Skus = [.. Enumerable.Range(1, 4).Select(i => string.Create(CultureInfo.InvariantCulture, $"FP-SKU-{i}"))];

    [Fact]
    public async Task A_publication_that_failed_after_its_append_goes_out_with_the_orders_next_command()
    {
        var ct = TestContext.Current.CancellationToken;
        var day0 = TestClock.Day0;
        var failing = new FailingPublications("fp-order");
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("fp"), ct,
            new Dictionary<string, string?> { ["Statistics:Reconciliation:Enabled"] = "false" },
            configureSilo: silo => silo.AddOutgoingGrainCallFilter(failing));
        var plan = new ScenarioGenerator(new Random(29), Skus).Order("fp-order", "fp-customer", "EUR", Lifecycle.Shipped, day0.AddHours(9));

        // The placement is stored and answered, but its publication fails.
        await cluster.ExecuteAsync(plan with { Steps = [plan.Steps[0]] });
        Assert.True(failing.Refused > 0, "The stream took the placement: this test shows nothing.");
        failing.Enabled = false;

        // The rest of the order, through the same activation: the placement goes out first.
        await cluster.ExecuteAsync(plan with { Steps = [.. plan.Steps.Skip(1)] });
        var expected = await cluster.ExpectedFromLogAsync(ct);
        await StatsCheck.AssertConvergesAsync(cluster.Reader, expected, ReconciliationTests.PlanFor(day0), TimeSpan.FromSeconds(30), ct, "statistics after the owed publication");
    }
}
