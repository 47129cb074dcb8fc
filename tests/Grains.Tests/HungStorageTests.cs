using System.Collections.Concurrent;
using Azure.Core;
using Orleans.Runtime;
using Orleans.Streams;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Streams;
using OrderFlow.Storage;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// Storage that hangs instead of refusing connections (overloaded, or a stalled network path):
/// Azurite's process is suspended (SIGSTOP), so connections are accepted but nothing is answered.
/// </summary>
public sealed class HungStorageTests
{
    // The other hung-storage test is in its own class (below) so that the two run in parallel: this one waits 30 s.

    /// <summary>
    /// With the product's own table client settings, a storage call that hangs must still end in
    /// <see cref="StorageUnavailableException"/> before Orleans gives up on the grain call (30 s),
    /// so that the API can answer 503 instead of failing with Orleans' TimeoutException.
    /// </summary>
    [Fact]
    public async Task HungStorageFailsWithStorageUnavailableRatherThanAnOrleansTimeout()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "Suspends Azurite with SIGSTOP.");
        var ct = TestContext.Current.CancellationToken;
        await using var azurite = await Azurite.StartNewAsync(cancellationToken: ct);
        await using var cluster = await OrderCluster.StartAsync(azurite.ConnectionString, TableNames.Unique("hung"), countRequests: false, ct);
        var id = NewOrderId();
        await cluster.Grain(id).Succeeds(Place(id));

        Exception? thrown;
        using (azurite.Suspend())
        {
            thrown = await Record.ExceptionAsync(() => cluster.Grain(NewOrderId()).Get());
        }

        // A read hung: nothing was written.
        Assert.False(Assert.IsType<StorageUnavailableException>(thrown).WriteOutcomeUnknown);
    }
}

/// <summary>Storage hangs while an append is on the wire, then wakes up and applies it.</summary>
public sealed class UnknownOutcomeTests
{
    /// <summary>
    /// An append whose answer never came (the request reached storage, which then applied it) is a
    /// command of unknown outcome. The grain must not keep serving its pre-command state as the
    /// truth afterwards: once storage answers again, a read returns what the log holds.
    /// </summary>
    [Fact]
    public async Task AfterAnAppendOfUnknownOutcomeTheGrainReadsWhatTheLogHolds()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "Suspends Azurite with SIGSTOP.");
        var ct = TestContext.Current.CancellationToken;
        await using var azurite = await Azurite.StartNewAsync(cancellationToken: ct);

        // A short network timeout and no retries, so that the lost answer costs seconds, not thirty
        // (not one second: it also bounds every request of the set-up, on a machine busy with other tests).
        await using var cluster = await OrderCluster.StartAsync(
            azurite.ConnectionString,
            TableNames.Unique("unknown"),
            countRequests: true,
            ct,
            options =>
            {
                options.Retry.MaxRetries = 0;
                options.Retry.NetworkTimeout = TimeSpan.FromSeconds(3);
            });

        // The placement announces the order in the change index's current (one-minute) bucket, so
        // that the payment's first storage request is its append.
        var (id, thrown, published) = await SameChangeBucket.RunAsync(async () =>
        {
            var orderId = NewOrderId();
            var seen = await PublishedAsync(cluster, orderId);
            await cluster.Grain(orderId).Succeeds(Place(orderId));
            using (azurite.Suspend())
            {
                return (orderId, await Record.ExceptionAsync(() => cluster.Grain(orderId).Execute(Pay(), new())), seen);
            }
        });

        // Raised by the grain itself (its call timed out after 3 s): the outcome is unknown to the
        // caller, and the exception says so across the grain call.
        var unknown = Assert.IsType<StorageUnavailableException>(thrown);
        Assert.True(unknown.WriteOutcomeUnknown, $"An append whose answer never came must leave the outcome unknown: {unknown}");
        var grain = cluster.Grain(id);

        // Storage wakes up and applies the request that was already on the wire.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        IReadOnlyList<Grains.EventStore.StoredEvent> events;
        while ((events = await cluster.EventsAsync(id, ct)).Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        Assert.Equal(["OrderPlaced", "OrderPaid"], events.Select(e => e.Type));

        // The grain's answer must be the log's, not its stale pre-payment view.
        var view = await grain.Get();
        SameView(OrderCluster.Fold(events).ToView(events.Count), view);
        Assert.Equal(OrderStatus.Paid, view?.Status);

        // And, having found the payment it did not know had landed, publishes it (its stored marker
        // claimed it published): the statistics need not wait for the reconciliation.
        await Eventually.UntilAsync(() => Task.FromResult(published.Contains("OrderPaid")), "the grain to publish the payment that landed", ct,
            lastSeen: () => string.Join(", ", published));
    }

    /// <summary>
    /// The append of unknown outcome lands only after the grain has reloaded and found it missing:
    /// the grain must still publish it once a load shows it (the marker stored with it claims it
    /// published), not take the marker's word because an earlier load had not seen it.
    /// </summary>
    [Fact]
    public async Task AnAppendOfUnknownOutcomeThatLandsAfterTheReloadIsStillPublished()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var azurite = await Azurite.StartNewAsync(cancellationToken: ct);
        var landing = new LateLanding();
        await using var cluster = await OrderCluster.StartAsync(
            azurite.ConnectionString,
            TableNames.Unique("late"),
            countRequests: true,
            ct,
            options =>
            {
                options.Retry.MaxRetries = 0; // a retry would send the held transaction again at once
                options.AddPolicy(landing, HttpPipelinePosition.BeforeTransport);
            });

        // In one change bucket, so that the payment's only transaction is its append.
        var (id, thrown, published, before) = await SameChangeBucket.RunAsync(async () =>
        {
            var orderId = NewOrderId();
            var seen = await PublishedAsync(cluster, orderId);
            await cluster.Grain(orderId).Succeeds(Place(orderId));
            landing.Arm(KeyEncoding.Encode(orderId));
            var failed = await Record.ExceptionAsync(() => cluster.Grain(orderId).Execute(Pay(), new()));
            return (orderId, failed, seen, await cluster.Grain(orderId).Get());
        });

        Assert.True(Assert.IsType<StorageUnavailableException>(thrown).WriteOutcomeUnknown);
        Assert.Equal(OrderStatus.Placed, before?.Status); // the reload did not find the payment: it had not landed

        using (var landed = await landing.LandAsync(ct))
        {
            Assert.True(landed.IsSuccessStatusCode, $"The held append: {(int)landed.StatusCode} {await landed.Content.ReadAsStringAsync(ct)}");
        }

        Assert.Equal(["OrderPlaced", "OrderPaid"], (await cluster.EventsAsync(id, ct)).Select(e => e.Type));

        // The client retries the payment: the grain's append collides with the landed one, it reloads
        // and answers from the log, and publishes the payment.
        var retried = await cluster.Grain(id).Execute(Pay(), new());
        Assert.Null(retried.Error);
        Assert.Equal(OrderStatus.Paid, retried.Order?.Status);
        await Eventually.UntilAsync(() => Task.FromResult(published.Contains("OrderPaid")), "the grain to publish the payment that landed late", ct,
            lastSeen: () => string.Join(", ", published));
    }

    /// <summary>The types of the events the grains publish of <paramref name="orderId"/> (the reconciliation feeds the projections directly, not the stream).</summary>
    private static async Task<ConcurrentQueue<string>> PublishedAsync(OrderCluster cluster, string orderId)
    {
        var published = new ConcurrentQueue<string>();
        await cluster.Client.GetStreamProvider(OrderEventStreams.ProviderName)
            .GetStream<OrderEventEnvelope>(StreamId.Create(OrderEventStreams.Namespace, OrderEventStreams.StreamKey(OrderEventStreams.ShardOf(orderId))))
            .SubscribeAsync((envelope, _) =>
            {
                if (envelope.OrderId == orderId)
                {
                    published.Enqueue(envelope.Type);
                }

                return Task.CompletedTask;
            });
        return published;
    }
}
