using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>The implicit subscriber of one order-event stream (one shard of orders).</summary>
public interface IOrderEventsConsumerGrain : IGrainWithStringKey;

/// <summary>
/// Receives a shard's confirmed order events and hands each to the projections it feeds: the
/// day's time buckets, the customer, and the shard's open orders. Every projection counts an
/// event once by (order id, version), so redelivery and replays are harmless.
/// </summary>
[ImplicitStreamSubscription(OrderEventStreams.Namespace)]
public sealed class OrderEventsConsumerGrain(ILogger<OrderEventsConsumerGrain> logger)
    : Grain, IOrderEventsConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<OrderEventEnvelope>
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<OrderEventEnvelope>().ResumeAsync(this);

    public Task OnNextAsync(OrderEventEnvelope item, StreamSequenceToken? token = null) => Project(GrainFactory, item);

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "Order event stream {Stream} reported an error.", this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <summary>Feeds one event to every projection; also what a rebuild replays through.</summary>
    public static Task Project(IGrainFactory grains, OrderEventEnvelope e)
    {
        var shard = OrderEventStreams.ShardOf(e.OrderId);
        return Task.WhenAll(
            grains.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(shard, DateOnly.FromDateTime(e.OccurredAt.UtcDateTime))).Ingest(e),
            grains.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(e.CustomerId)).Ingest(e),
            grains.GetGrain<IStuckOrdersGrain>(StatisticsKeys.Shard(shard)).Ingest(e));
    }
}
