using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>The implicit subscriber of one order-event stream (one shard of orders).</summary>
public interface IOrderEventsConsumerGrain : IGrainWithStringKey;

/// <summary>
/// Receives a shard's confirmed order events and hands them to the projections they feed: the
/// day's time buckets, the customer, and the order's stuck-orders partition. Every projection counts an
/// event once by (order id, version), so redelivery and replays are harmless.
/// </summary>
/// <remarks>
/// Delivery is batched: an event is buffered and acknowledged at once, and one delivery at a time
/// sends what is buffered, grouped per projection grain, one call per grain carrying all its
/// events. While a delivery is under way the next batch gathers, so the batches grow with the
/// load instead of every event waiting for the one before. Buffered events of a silo that dies
/// are lost to the stream like the counts its projections had not persisted: the reconciliation
/// counts both again from the log. A projection grain that fails fails only its own events.
/// </remarks>
[ImplicitStreamSubscription(OrderEventStreams.Namespace)]
public sealed class OrderEventsConsumerGrain(TimeProvider time, ILogger<OrderEventsConsumerGrain> logger)
    : Grain, IOrderEventsConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<OrderEventEnvelope>
{
    /// <summary>Events buffered beyond which the stream waits for the delivery under way: bounds memory when the projections fall behind.</summary>
    private const int MaxBuffered = 10_000;

    private List<OrderEventEnvelope> buffered = [];

    private Task delivering = Task.CompletedTask;

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<OrderEventEnvelope>().ResumeAsync(this);

    public async Task OnNextAsync(OrderEventEnvelope item, StreamSequenceToken? token = null)
    {
        buffered.Add(item);
        if (delivering.IsCompleted)
        {
            delivering = DeliverBufferedAsync();
        }
        else if (buffered.Count >= MaxBuffered)
        {
            await delivering;
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await delivering.WaitAsync(cancellationToken);
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Delivers batches until nothing is buffered; runs on the grain's scheduler between stream deliveries.</summary>
    private async Task DeliverBufferedAsync()
    {
        await Task.Yield(); // let the stream hand over what it has queued before the first batch leaves
        while (buffered.Count > 0)
        {
            var batch = buffered;
            buffered = [];
            await DeliverAsync(batch);
        }
    }

    private async Task DeliverAsync(List<OrderEventEnvelope> batch)
    {
        var delivery = Activity.Current;
        var spans = batch.Select(envelope =>
        {
            var span = OrderFlowTelemetry.StartProjection(envelope);
            Activity.Current = delivery; // one span per event, side by side rather than nested in one another
            return span;
        }).ToList();
        try
        {
            // Asked per batch, after its events arrived, so that a rebuild's new generation gets every event delivered after it started.
            var generations = await GrainFactory.GetGrain<IProjectionControl>(0).Targets();
            var failures = await Project(GrainFactory, batch, generations);
            foreach (var (key, exception) in failures)
            {
                logger.LogWarning(exception, "Projection {Projection} failed a batch of live events; the reconciliation counts them again from the log.", key);
            }

            var now = time.GetUtcNow();
            foreach (var envelope in batch)
            {
                if (envelope.RecordedAt is { } recordedAt)
                {
                    OrderFlowTelemetry.ProjectionLag.Record(
                        Math.Max(0, (now - recordedAt).TotalSeconds), new KeyValuePair<string, object?>(OrderFlowTelemetry.EventTypeTag, envelope.Type));
                }
            }
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "A batch of {Count} live events of stream {Stream} was not projected; the reconciliation counts them from the log.", batch.Count, this.GetPrimaryKeyString());
        }
        finally
        {
            foreach (var span in spans)
            {
                span?.Dispose();
            }
        }
    }

    /// <summary>
    /// Feeds <paramref name="envelopes"/> to every projection of each of <paramref name="generations"/>
    /// (written behind): one call per projection grain with all its envelopes, all grains at once.
    /// </summary>
    /// <returns>The projection grains whose call failed (the others counted their envelopes), with why.</returns>
    public static async Task<IReadOnlyList<(string Key, Exception Error)>> Project(IGrainFactory grains, IReadOnlyCollection<OrderEventEnvelope> envelopes, IEnumerable<int> generations)
    {
        var byProjection = new Dictionary<string, (IWriteBehindProjection Grain, List<OrderEventEnvelope> Envelopes)>(StringComparer.Ordinal);
        foreach (var generation in generations)
        {
            foreach (var envelope in envelopes)
            {
                foreach (var (key, grain) in ProjectionsOf(grains, envelope, generation))
                {
                    if (!byProjection.TryGetValue(key, out var target))
                    {
                        byProjection[key] = target = (grain, []);
                    }

                    target.Envelopes.Add(envelope);
                }
            }
        }

        var sends = byProjection.Select(async pair =>
        {
            try
            {
                await pair.Value.Grain.IngestBatch(pair.Value.Envelopes);
                return ((string Key, Exception Error)?)null;
            }
            catch (Exception exception)
            {
                return (pair.Key, exception);
            }
        });
        return [.. (await Task.WhenAll(sends)).Where(failure => failure is not null).Select(failure => failure!.Value)];
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "Order event stream {Stream} reported an error.", this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

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
