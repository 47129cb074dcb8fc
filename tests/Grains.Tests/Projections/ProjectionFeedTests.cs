using OrderFlow.Grains.Projections;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
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

    /// <summary>
    /// Review finding (a bad record read back from the log): a projection grain whose count of one
    /// event threw failed the whole send, so every order of a day shard (up to a batch of them) was
    /// parked with it; retried, the bad event was skipped as counted (it had been marked before it
    /// threw) and nothing stayed parked. Only the bad event and the rest of its stream fail, to be
    /// parked as the event they are; the other orders of the grain are counted and persisted; a bad
    /// record changes nothing (it is checked before the count); and a retry fails it again, in the
    /// same activation and in a later one.
    /// </summary>
    [Fact]
    public async Task A_bad_record_read_back_fails_only_its_own_stream_and_fails_again_when_retried()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StartAsync(new FailingCalls(nameof(IProjectionInput<OrderEventEnvelope>.IngestAndPersist)), ct);
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var day = new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero);
        OrderEventEnvelope Event(string orderId, int version, string type, string currency = "EUR") =>
            new(orderId, version, Guid.NewGuid(), type, day.AddMinutes(version), "bad-record-customer", currency, 20m, type == "OrderPaid" ? 20m : 0m,
                [new OrderLine("BAD-RECORD-SKU", 2, 10m)], OrderStatus.Placed, OrderStatus.Placed, null, null, null);
        // Three orders of one shard: one day grain counts them all.
        var (a, b, c) = (OnShard("bad-record-a"), OnShard("bad-record-b"), OnShard("bad-record-c"));
        OrderEventEnvelope[] log =
        [
            Event(a, 1, "OrderPlaced"), Event(a, 2, "OrderPaid"),
            Event(b, 1, "OrderPlaced"), Event(b, 2, "OrderPaid", currency: null!), Event(b, 3, "OrderShipped"), // no currency: the day's count throws
            Event(c, 1, "OrderPlaced"),
        ];
        var dayKeys = log.SelectMany(e => ProjectionRegistry.TargetsOf(cluster.Client, e, generation)).Select(t => t.Key)
            .Where(key => key.StartsWith(ProjectionGrainTypes.Day + "/", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Single(dayKeys);

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            if (attempt == 3)
            {
                // A new activation, from what the first two persisted: the bad event is not among what they counted.
                await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, ct);
            }

            var feed = new ProjectionFeed<OrderEventEnvelope>(cluster.Client, EventCategories.Orders);
            foreach (var envelope in log)
            {
                await feed.AddAsync(envelope, generation);
            }

            await feed.CompleteAsync();

            // Parked as the event it is: no projection key fails, not even the day's.
            Assert.Empty(feed.Failures);
            var (streamId, version, reason) = Assert.Single(feed.Uncounted);
            Assert.Equal((b, 2), (streamId, version));
            Assert.Contains(dayKeys[0], reason, StringComparison.Ordinal);
            Assert.Equal([b], feed.FailedStreams);
            Assert.Equal(log.Length - 2, feed.Persisted); // all but versions 2 and 3 of the bad stream
            if (attempt == 1)
            {
                Assert.InRange(feed.Repaired, 4, log.Length);
            }
            else
            {
                Assert.Equal(0, feed.Repaired); // the good events were counted the first time
            }
        }

        // The day counted the good events once, and nothing of the bad one (checked before any change), whatever the retries.
        var minutes = await cluster.Client.GetGrain<IDayStatsGrain>(dayKeys[0][(ProjectionGrainTypes.Day.Length + 1)..]).GetMinutes(0, 1440);
        var events = StatsBucket.MergeAll(minutes.Values).Events;
        Assert.Equal((3L, 1L, 0L), (events.GetValueOrDefault("OrderPlaced"), events.GetValueOrDefault("OrderPaid"), events.GetValueOrDefault("OrderShipped")));
    }

    /// <summary>
    /// Review finding: a bad record was remembered as uncountable by the activation that refused it,
    /// so the same record, mended in the log and read back again, was refused until the grain was
    /// collected (a busy day's: all day). A bad record changes nothing and is not remembered.
    /// </summary>
    [Fact]
    public async Task A_bad_record_once_mended_is_counted_by_the_same_activation()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StartAsync(new FailingCalls(nameof(IProjectionInput<OrderEventEnvelope>.IngestAndPersist)), ct);
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();
        var id = OnShard("mended-record");
        var at = new DateTimeOffset(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);
        OrderEventEnvelope Event(int version, string type, string currency) =>
            new(id, version, Guid.NewGuid(), type, at.AddMinutes(version), "mended-customer", currency, 20m, 20m,
                [new OrderLine("MENDED-SKU", 2, 10m)], OrderStatus.Placed, OrderStatus.Placed, null, null, null);

        async Task<ProjectionFeed<OrderEventEnvelope>> FeedAsync(params OrderEventEnvelope[] log)
        {
            var feed = new ProjectionFeed<OrderEventEnvelope>(cluster.Client, EventCategories.Orders);
            foreach (var envelope in log)
            {
                await feed.AddAsync(envelope, generation);
            }

            await feed.CompleteAsync();
            return feed;
        }

        var bad = await FeedAsync(Event(1, "OrderPlaced", "EUR"), Event(2, "OrderPaid", null!));
        Assert.Equal((id, 2), Assert.Single(bad.Uncounted) is var (streamId, version, _) ? (streamId, version) : default);

        var mended = await FeedAsync(Event(2, "OrderPaid", "EUR"));
        Assert.Empty(mended.Uncounted);
        Assert.Empty(mended.FailedStreams);
        Assert.Equal(1, mended.Persisted);
    }

    /// <summary>An order id beginning with <paramref name="prefix"/> on shard 0.</summary>
    private static string OnShard(string prefix) =>
        Enumerable.Range(0, int.MaxValue).Select(i => $"{prefix}-{i}").First(id => OrderEventStreams.ShardOf(id) == 0);

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
