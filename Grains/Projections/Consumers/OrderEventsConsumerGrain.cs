using Microsoft.Extensions.Logging;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>Receives a shard's confirmed order events and hands each to the projections that consume it.</summary>
[ImplicitStreamSubscription(OrderEventStreams.Namespace)]
public sealed class OrderEventsConsumerGrain(TimeProvider time, ILogger<OrderEventsConsumerGrain> logger)
    : ProjectionStreamConsumer<OrderEventEnvelope>(EventCategories.Orders, time, logger), IOrderEventsConsumerGrain;
