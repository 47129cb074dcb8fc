using Microsoft.Extensions.Logging;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.StuckOrders;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Streams;
using Orleans.Streams.Core;
using Orleans.Streams;

namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>
/// Receives a shard's confirmed order events and hands each to the projections it feeds: the
/// day's time buckets, the customer, and the order's stuck-orders partition. Every projection counts an
/// event once by (order id, version), so redelivery and replays are harmless.
/// </summary>
[ImplicitStreamSubscription(OrderEventStreams.Namespace)]
public sealed class OrderEventsConsumerGrain(TimeProvider time, ILogger<OrderEventsConsumerGrain> logger)
    : Grain, IOrderEventsConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<OrderEventEnvelope>
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<OrderEventEnvelope>().ResumeAsync(this);

    public async Task OnNextAsync(OrderEventEnvelope item, StreamSequenceToken? token = null)
    {
        using var projecting = OrderFlowTelemetry.StartProjection(item);
        // Asked per event, so that a rebuild's new generation gets every event delivered after it started.
        var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
        await Task.WhenAll(generations.Select(generation => Project(GrainFactory, item, generation)));
        if (item.RecordedAt is { } recordedAt)
        {
            OrderFlowTelemetry.ProjectionLag.Record(
                Math.Max(0, (time.GetUtcNow() - recordedAt).TotalSeconds), new KeyValuePair<string, object?>(OrderFlowTelemetry.EventTypeTag, item.Type));
        }
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "Order event stream {Stream} reported an error.", this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <summary>Feeds one event to every projection of <paramref name="generation"/> (written behind).</summary>
    public static Task Project(IGrainFactory grains, OrderEventEnvelope e, int generation) =>
        Task.WhenAll(ProjectionsOf(grains, e, generation).Select(projection => projection.Grain.Ingest(e)));

    /// <summary>
    /// The projections of <paramref name="generation"/> that count <paramref name="e"/>: the day of its
    /// event time on its shard, its customer, its stuck-order partition; each with a key unique among them.
    /// </summary>
    public static IEnumerable<(string Key, IWriteBehindProjection Grain)> ProjectionsOf(IGrainFactory grains, OrderEventEnvelope e, int generation)
    {
        var day = StatisticsKeys.DayOf(generation, e);
        var customer = StatisticsKeys.Customer(generation, e.CustomerId);
        var stuck = StatisticsKeys.StuckOrdersOf(generation, e.OrderId);
        yield return ("day:" + day, grains.GetGrain<IDayStatsGrain>(day));
        yield return ("customer:" + customer, grains.GetGrain<ICustomerStatsGrain>(customer));
        yield return ("stuck:" + stuck, grains.GetGrain<IStuckOrdersGrain>(stuck));
    }
}
