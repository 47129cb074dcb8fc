using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>
/// The implicit subscriber of one stream (one shard) of a category: hands each confirmed event to
/// every projection that consumes it (<see cref="ProjectionRegistry"/>), in every generation that
/// is fed (<see cref="IProjectionControl.Targets"/>), in a span joined to the trace of the
/// event's publication (<see cref="OrderFlowTelemetry.StartProjection"/>). Every projection counts an event once by
/// (stream id, version), so redelivery and replays are harmless. A category's consumer is this
/// class with its <see cref="ImplicitStreamSubscriptionAttribute"/>.
/// </summary>
/// <remarks>
/// Delivery is batched by the stream itself: the pulling agent hands over up to
/// <c>StreamPullingAgentOptions.BatchContainerBatchSize</c> events at once and waits for this grain,
/// which sends them grouped per projection grain, one call per grain carrying all its events
/// (<see cref="IProjectionInput{TEnvelope}.IngestBatch"/>). A batch is acknowledged only once every
/// projection counted it (in memory, written behind), so a silo that stops takes no acknowledged
/// but uncounted event with it. A projection grain that fails a batch fails the delivery, and the
/// stream delivers the batch again (the projections that counted it ignore the repeat); after
/// <see cref="ParkingOptions.DeliveryFailuresBeforeParking"/> failures in a row the projection is
/// parked and no longer holds up the stream: the reconciliation counts its events from the log.
/// </remarks>
public abstract class ProjectionStreamConsumer<TEnvelope>(EventCategory<TEnvelope> category, TimeProvider time, ILogger logger)
    : Grain, IStreamSubscriptionObserver, IAsyncBatchObserver<TEnvelope>
{
    /// <summary>Projection grain id → batches it failed in a row (while it keeps failing; forgotten when it counts one).</summary>
    private readonly Dictionary<string, int> failuresInARow = new(StringComparer.Ordinal);

    /// <summary>
    /// Projections this consumer parked, with when, that have failed every batch sent to them since:
    /// the stream goes on without them. One that still fails is parked again once
    /// <see cref="ParkingOptions.FirstRetry"/> has passed, so that it is listed again if a retry
    /// unparked it meanwhile.
    /// </summary>
    private readonly Dictionary<string, DateTimeOffset> parkedHere = new(StringComparer.Ordinal);

    /// <summary>Failing projections remembered; beyond it, those not failing this batch are forgotten (their streak starts again).</summary>
    private const int MaxRemembered = 10_000;

    /// <summary>Made once: Orleans reads the grain interface's attributes for every reference it makes, and this one is asked every batch.</summary>
    private IProjectionControl? control;

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<TEnvelope>().ResumeAsync(this);

    public async Task OnNextAsync(IList<SequentialItem<TEnvelope>> items)
    {
        var batch = items.Select(item => item.Item).ToList();
        var delivery = Activity.Current;
        var spans = batch.Select(envelope =>
        {
            var (streamId, version) = category.IdentityOf(envelope);
            var span = OrderFlowTelemetry.StartProjection(category.Name, streamId, version, category.TypeOf(envelope), category.TraceParentOf(envelope));
            Activity.Current = delivery; // each event's span is a sibling under the delivery, not the parent of the next
            return span;
        }).ToList();
        try
        {
            // Asked per batch, after its events arrived, so that a rebuild's new generation gets every event delivered after it started.
            var generations = await (control ??= GrainFactory.GetGrain<IProjectionControl>(0)).Targets();
            var sent = await ProjectionRegistry.DeliverAsync(GrainFactory, batch, generations);
            await FailUnlessParkedAsync(sent, batch.Count);

            var now = time.GetUtcNow();
            foreach (var envelope in batch)
            {
                if (category.RecordedAtOf(envelope) is { } recordedAt)
                {
                    OrderFlowTelemetry.ProjectionLag.Record(
                        Math.Max(0, (now - recordedAt).TotalSeconds), new KeyValuePair<string, object?>(OrderFlowTelemetry.EventTypeTag, category.TypeOf(envelope)));
                }
            }
        }
        finally
        {
            foreach (var span in spans)
            {
                span?.Dispose();
            }
        }
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "A {Category} event stream ({Stream}) reported an error.", category.Name, this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <summary>Drops what this consumer remembers of a projection's failures.</summary>
    private void Forget(string key)
    {
        failuresInARow.Remove(key);
        parkedHere.Remove(key);
    }

    /// <summary>
    /// Throws, so that the stream delivers the batch again, when a projection failed it that has
    /// not yet failed <see cref="ParkingOptions.DeliveryFailuresBeforeParking"/> batches in a row;
    /// parks a projection when it reaches that many, and from then on lets the stream go on without it.
    /// </summary>
    private async Task FailUnlessParkedAsync(LiveDelivery delivery, int events)
    {
        var failures = delivery.Failures;
        var failed = failures.Select(failure => failure.Key).ToHashSet(StringComparer.Ordinal);
        // Recovered: counted a batch. One that this batch did not concern keeps its streak (and stays parked here).
        foreach (var recovered in delivery.SentTo.Where(key => failuresInARow.ContainsKey(key) && !failed.Contains(key)).ToList())
        {
            Forget(recovered);
        }

        if (failuresInARow.Count > MaxRemembered)
        {
            foreach (var forgotten in failuresInARow.Keys.Where(key => !failed.Contains(key)).ToList())
            {
                Forget(forgotten);
            }
        }

        var parking = ServiceProvider.GetRequiredService<IOptions<ParkingOptions>>().Value;
        var limit = Math.Max(1, parking.DeliveryFailuresBeforeParking);
        var now = time.GetUtcNow();
        var blocking = new List<Exception>();
        var toPark = new List<ParkRequest>();
        foreach (var (key, error) in failures)
        {
            var inARow = failuresInARow[key] = failuresInARow.GetValueOrDefault(key) + 1;
            if (inARow < limit)
            {
                blocking.Add(error);
            }
            else if (!parkedHere.TryGetValue(key, out var parkedAt) || now - parkedAt >= parking.FirstRetry)
            {
                // At the limit, or past it when parking failed the delivery before (so it is tried again),
                // or still failing a retry's wait after it was parked (a retry may have unparked it).
                toPark.Add(new ParkRequest(ParkedKind.Projection, key, ProjectionRegistry.Describe(key),
                    $"{inARow} live batches in a row failed, the last with: {error.Message} The reconciliation counts its events from the log.", TimeSpan.Zero));
            }
        }

        if (toPark.Count > 0)
        {
            // Parked before the batch is acknowledged: if parking fails, so does the delivery, and it is tried again.
            await GrainFactory.GetGrain<IParking>(0).Park(toPark);
            foreach (var request in toPark)
            {
                parkedHere[request.Key] = now;
            }

            logger.LogWarning("Projections {Projections} failed {Limit} live batches in a row of {Category} stream {Stream}; parked, the stream goes on without them and the reconciliation counts their events from the log.",
                string.Join(", ", toPark.Select(request => request.Key)), limit, category.Name, this.GetPrimaryKeyString());
        }

        if (blocking.Count > 0)
        {
            throw new AggregateException(
                $"{blocking.Count} projections failed a batch of {events} live {category.Name} events of stream {this.GetPrimaryKeyString()}; the stream delivers it again.", blocking);
        }
    }
}
