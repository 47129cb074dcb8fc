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

    public async Task OnNextAsync(OrderEventEnvelope item, StreamSequenceToken? token = null)
    {
        // Asked per event, so that a rebuild's new generation gets every event delivered after it started.
        var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
        await Task.WhenAll(generations.Select(generation => Project(GrainFactory, item, generation)));
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "Order event stream {Stream} reported an error.", this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <summary>Feeds one event to every projection of <paramref name="generation"/>; also what a rebuild and a reconciliation feed through (see <see cref="ProjectionFeed"/>).</summary>
    public static Task Project(IGrainFactory grains, OrderEventEnvelope e, int generation)
    {
        return Task.WhenAll(
            grains.GetGrain<IDayStatsGrain>(StatisticsKeys.DayOf(generation, e)).Ingest(e),
            grains.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(generation, e.CustomerId)).Ingest(e),
            grains.GetGrain<IStuckOrdersGrain>(StatisticsKeys.Shard(generation, OrderEventStreams.ShardOf(e.OrderId))).Ingest(e));
    }
}
