using OrderFlow.Grains.Projections;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Streams;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;

namespace OrderFlow.Grains.Tests.Projections;

/// <summary>What the feed of the reconciliation and the rebuild makes of projection grains that fail.</summary>
public sealed class ProjectionFeedTests(AzuriteFixture azurite)
{
    /// <summary>
    /// Review finding: during a rebuild a customer event goes to the customer's grain in two
    /// generations; with that one customer's projection broken in both, the feed took the two failures
    /// for storage being down and failed the whole pass, so no other change was reconciled (nor caught
    /// up after a silo died) until the rebuild ended. One key failing in every generation is that key's failure.
    /// </summary>
    [Fact]
    public async Task One_key_failing_in_every_generation_is_that_keys_failure_not_the_feeds()
    {
        var ct = TestContext.Current.CancellationToken;
        var broken = new FailingCalls(nameof(IProjectionInput<CustomerEventEnvelope>.IngestAndPersist), "broken-customer");
        await using var cluster = await StartAsync(broken, ct);
        var feed = new ProjectionFeed<CustomerEventEnvelope>(cluster.Client, EventCategories.Customers);
        var registered = new CustomerEventEnvelope("broken-customer", 1, Guid.NewGuid(), "CustomerRegistered", DateTimeOffset.UtcNow, "DE", DateTimeOffset.UtcNow);

        await feed.AddAsync(registered, 1);
        await feed.AddAsync(registered, 2);
        await feed.CompleteAsync();

        Assert.Equal(2, broken.Failed);
        Assert.Equal(
            [$"{ProjectionGrainTypes.Customer}/1/broken-customer", $"{ProjectionGrainTypes.Customer}/2/broken-customer"],
            feed.Failures.Select(f => f.Key).Order());
    }

    /// <summary>Every grain of a send failing for more than one key is storage's failure: the feed fails, parking nothing.</summary>
    [Fact]
    public async Task Every_grain_of_a_send_failing_for_several_keys_fails_the_feed()
    {
        var ct = TestContext.Current.CancellationToken;
        var broken = new FailingCalls(nameof(IProjectionInput<CustomerEventEnvelope>.IngestAndPersist), "broken-a", "broken-b");
        await using var cluster = await StartAsync(broken, ct);
        var feed = new ProjectionFeed<CustomerEventEnvelope>(cluster.Client, EventCategories.Customers);
        foreach (var customer in new[] { "broken-a", "broken-b" })
        {
            await feed.AddAsync(new CustomerEventEnvelope(customer, 1, Guid.NewGuid(), "CustomerRegistered", DateTimeOffset.UtcNow, "DE", DateTimeOffset.UtcNow), 1);
        }

        await Assert.ThrowsAsync<AggregateException>(feed.CompleteAsync);
        Assert.Equal(2, broken.Failed);
    }

    /// <summary>
    /// Review finding: the feed remembered every envelope it had repaired for as long as it lived,
    /// to count each once, and a rebuild feeds the whole log through one feed (in a new generation
    /// every event is a repair): its memory grew with the log. Nothing the feed keeps grows past a
    /// batch, and the count is the same.
    /// </summary>
    [Fact]
    public async Task A_feed_keeps_nothing_per_envelope_beyond_a_batch()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StartAsync(new FailingCalls(nameof(IProjectionInput<CustomerEventEnvelope>.IngestAndPersist)), ct);
        var feed = new ProjectionFeed<CustomerEventEnvelope>(cluster.Client, EventCategories.Customers);
        var fed = (ProjectionFeed<CustomerEventEnvelope>.BatchSize * 5) / 2;
        for (var version = 1; version <= fed; version++)
        {
            await feed.AddAsync(new CustomerEventEnvelope("many-events", version, Guid.NewGuid(), "CustomerRegistered", DateTimeOffset.UtcNow, "DE", DateTimeOffset.UtcNow), 1);
        }

        await feed.CompleteAsync();

        Assert.Equal((fed, fed), (feed.Persisted, feed.Repaired));
        var fields = feed.GetType().GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);
        var collections = fields.Select(field => (field.Name, Value: field.GetValue(feed)))
            .Where(field => field.Value is System.Collections.IEnumerable and not string)
            .Select(field => (field.Name, Count: ((System.Collections.IEnumerable)field.Value!).Cast<object>().Count()))
            .ToList();
        Assert.NotEmpty(collections);
        Assert.All(collections, field => Assert.True(field.Count < ProjectionFeed<CustomerEventEnvelope>.BatchSize, $"{field.Name} holds {field.Count}"));
    }

    private Task<Orleans.TestingHost.InProcessTestCluster> StartAsync(FailingCalls broken, CancellationToken ct)
    {
        var tables = TableNames.Unique("feed");
        var settings = TestClusters.Settings(azurite.ConnectionString, tables);
        settings["Statistics:TableName"] = tables + "stats";
        settings["Statistics:Reconciliation:Enabled"] = "false";
        return TestClusters.StartAsync(settings, ct, configureSilo: silo => silo.AddIncomingGrainCallFilter(broken));
    }

    /// <summary>Fails every call of <paramref name="method"/> to a grain whose key ends with one of <paramref name="keySuffixes"/>.</summary>
    private sealed class FailingCalls(string method, params string[] keySuffixes) : IIncomingGrainCallFilter
    {
        private int failed;

        public int Failed => failed;

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == method && keySuffixes.Any(suffix => context.TargetId.Key.ToString()!.EndsWith("/" + suffix, StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref failed);
                throw new InvalidOperationException("Injected by the test: this projection key is broken.");
            }

            await context.Invoke();
        }
    }
}
