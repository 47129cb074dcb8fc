using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Telemetry;

namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>
/// The implicit subscriber of one stream (one shard) of a category: hands each confirmed event to
/// every projection that consumes it (<see cref="ProjectionRegistry"/>), in every generation that
/// is fed (<see cref="IProjectionControl.Targets"/>), in a span joined to the trace of the
/// event's publication (<see cref="OrderFlowTelemetry.StartProjection"/>). Every projection counts an event once by
/// (stream id, version), so redelivery and replays are harmless. A category's consumer is this
/// class with its <see cref="ImplicitStreamSubscriptionAttribute"/>.
/// </summary>
public abstract class ProjectionStreamConsumer<TEnvelope>(EventCategory<TEnvelope> category, TimeProvider time, ILogger logger)
    : Grain, IStreamSubscriptionObserver, IAsyncObserver<TEnvelope>
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<TEnvelope>().ResumeAsync(this);

    public async Task OnNextAsync(TEnvelope item, StreamSequenceToken? token = null)
    {
        var (streamId, version) = category.IdentityOf(item);
        using var projecting = OrderFlowTelemetry.StartProjection(category.Name, streamId, version, category.TypeOf(item), category.TraceParentOf(item));
        // Asked per event, so that a rebuild's new generation gets every event delivered after it started.
        var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
        await Task.WhenAll(generations.Select(generation => ProjectionRegistry.DeliverAsync(GrainFactory, item, generation)));
        if (category.RecordedAtOf(item) is { } recordedAt)
        {
            OrderFlowTelemetry.ProjectionLag.Record(
                Math.Max(0, (time.GetUtcNow() - recordedAt).TotalSeconds), new KeyValuePair<string, object?>(OrderFlowTelemetry.EventTypeTag, category.TypeOf(item)));
        }
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "A {Category} event stream ({Stream}) reported an error.", category.Name, this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }
}
