using Microsoft.Extensions.Logging;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Streams;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>
/// Receives a shard's confirmed customer events (their own stream namespace, the customer
/// category) and hands each to the customer's projection, which joins them with the customer's
/// orders (<see cref="NewAccountLargeOrders"/>). The projection counts an event once by
/// (customer id, version), so redelivery and replays are harmless.
/// </summary>
[ImplicitStreamSubscription(CustomerEventStreams.Namespace)]
public sealed class CustomerEventsConsumerGrain(TimeProvider time, ILogger<CustomerEventsConsumerGrain> logger)
    : Grain, ICustomerEventsConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<CustomerEventEnvelope>
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<CustomerEventEnvelope>().ResumeAsync(this);

    public async Task OnNextAsync(CustomerEventEnvelope item, StreamSequenceToken? token = null)
    {
        // Asked per event, so that a rebuild's new generation gets every event delivered after it started.
        var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
        await Task.WhenAll(generations.Select(generation => ProjectionOf(GrainFactory, item, generation).IngestCustomerEvent(item)));
        if (item.RecordedAt is { } recordedAt)
        {
            OrderFlowTelemetry.ProjectionLag.Record(
                Math.Max(0, (time.GetUtcNow() - recordedAt).TotalSeconds), new KeyValuePair<string, object?>(OrderFlowTelemetry.EventTypeTag, item.Type));
        }
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "Customer event stream {Stream} reported an error.", this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <summary>The projection of <paramref name="generation"/> that counts <paramref name="e"/>: its customer's, the same grain the customer's orders feed.</summary>
    public static ICustomerStatsGrain ProjectionOf(IGrainFactory grains, CustomerEventEnvelope e, int generation) =>
        grains.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(generation, e.CustomerId));
}
