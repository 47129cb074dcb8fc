using Microsoft.Extensions.Logging;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>
/// Receives a shard's confirmed customer events (the customer category, its own stream
/// namespace) and hands each to the projections that consume it: the customer's, which joins them
/// with the customer's orders for rule new-account-large-order.
/// </summary>
[ImplicitStreamSubscription(CustomerEventStreams.Namespace)]
public sealed class CustomerEventsConsumerGrain(TimeProvider time, ILogger<CustomerEventsConsumerGrain> logger)
    : ProjectionStreamConsumer<CustomerEventEnvelope>(EventCategories.Customers, time, logger), ICustomerEventsConsumerGrain;
