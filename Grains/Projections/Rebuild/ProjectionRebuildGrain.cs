using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Projections;
using OrderFlow.Storage;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Rebuild;

/// <summary>
/// Scans the whole event log, stream by stream, rebuilds each order's envelopes exactly as the
/// order grain publishes them, and projects them into the new generation, then likewise the
/// customers' log (their own category); then reports to
/// <see cref="ProjectionControlGrain"/>, which switches generations, and deletes the stored state of
/// superseded ones.
/// </summary>
/// <remarks>
/// One bad record does not fail the rebuild: an event that cannot be read parks its order (the
/// events before it are counted, it and those after it are not), and a projection grain that
/// fails parks that key (<see cref="ParkedRetries"/>). The rebuild completes, and still switches
/// generations: the parked records say what the new generation is missing, and the
/// reconciliation retries them (into whichever generations are live then) until they succeed.
/// Its status counts them (<see cref="RebuildStatus.Parked"/>).
/// </remarks>
public sealed class ProjectionRebuildGrain(
    TableEventStore store,
    EventLogs logs,
    ChangeIndex changes,
    ProjectionStateJanitor janitor,
    IOptions<StatisticsOptions> options,
    IOptions<EventStoreOptions> eventStore,
    TimeProvider time,
    ILogger<ProjectionRebuildGrain> logger) : Grain, IProjectionRebuildGrain
{
    private Task? running;

    public Task Start(int generation)
    {
        if (running is null || running.IsCompleted) // completed: it ended without its end being recorded
        {
            DelayDeactivation(TimeSpan.FromDays(1)); // the scan runs without incoming calls to keep the grain alive
            running = RunAsync(generation);
        }

        return Task.CompletedTask;
    }

    private async Task RunAsync(int generation)
    {
        var id = this.GetPrimaryKeyString();
        var control = GrainFactory.GetGrain<IProjectionControl>(0);
        var feed = new ProjectionFeed<OrderEventEnvelope>(GrainFactory, EventCategories.Orders);
        var soonestRetry = ParkedRetries.SoonestRetry(eventStore.Value, options.Value.Reconciliation);
        var unreadable = new List<(string OrderId, ParkRequest Failure)>();
        var previous = await control.Serving(); // null: an outdated layout, which nothing feeds any more
        long reported = 0;
        void CountProgress()
        {
            OrderFlowTelemetry.RebuildEvents.Add(feed.Persisted - reported);
            reported = feed.Persisted;
        }

        try
        {
            string? streamId = null;
            var events = new List<StoredEvent>();
            var unreadableRows = new Dictionary<string, (int Version, ParkRequest Failure)>(StringComparer.Ordinal);
            await foreach (var (stream, stored) in store.ScanAllAsync(onUnreadable: (order, version, error) =>
                unreadableRows.TryAdd(order, (version, OrderReadBack.UnreadableRow(order, version, error.Message, soonestRetry)))))
            {
                if (stream != streamId && events.Count > 0)
                {
                    await ProjectStreamAsync(streamId!, events);
                    events.Clear();
                }

                streamId = stream;
                events.Add(stored);
            }

            if (events.Count > 0)
            {
                await ProjectStreamAsync(streamId!, events);
            }

            // Orders none of whose rows could be read.
            unreadable.AddRange(unreadableRows.Select(row => (row.Key, row.Value.Failure)));

            await feed.CompleteAsync();
            CountProgress();
            var customerEvents = await ProjectCustomersAsync(generation);

            // Orders are read again from their first event: what a projection already counted, it skips.
            var parked = await ParkedRetries.ParkAsync(GrainFactory, changes, time, unreadable, feed.Failures, _ => 1, soonestRetry);

            // Before reporting completion, so that "completed" also means "old state cleared".
            await DeleteSupersededAsync(generation, previous);
            await control.Finish(id, feed.Persisted + customerEvents, null, parked);
            if (parked > 0)
            {
                logger.LogWarning(
                    "Projection rebuild {Id} projected {Events} events into generation {Generation} and parked {Parked} records ({Orders} orders not completely counted); they are retried by the reconciliation. See GET /api/admin/parked.",
                    id, feed.Persisted, generation, parked, unreadable.Select(u => u.OrderId).Concat(feed.FailedOrders).Distinct(StringComparer.Ordinal).Count());
            }
            else
            {
                logger.LogInformation("Projection rebuild {Id} projected {Events} events into generation {Generation}.", id, feed.Persisted, generation);
            }

            async Task ProjectStreamAsync(string orderId, List<StoredEvent> stream)
            {
                if (unreadableRows.Remove(orderId, out var damaged))
                {
                    // Counted up to the damaged row, as for an event whose payload cannot be read.
                    unreadable.Add((orderId, damaged.Failure));
                    stream = [.. stream.Where(e => e.Version < damaged.Version)];
                }

                var read = OrderReadBack.FromStored(orderId, new OrderState(), stream, soonestRetry);
                if (read.Failure is not null)
                {
                    unreadable.Add((orderId, read.Failure));
                }

                foreach (var envelope in read.Envelopes)
                {
                    if (await feed.AddAsync(envelope, generation))
                    {
                        await control.Progress(id, feed.Persisted);
                        CountProgress();
                    }
                }
            }
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Projection rebuild {Id} failed after {Events} events; the serving generation is unchanged.", id, feed.Persisted);
            await control.Finish(id, feed.Persisted, exception.Message);
        }
        finally
        {
            DelayDeactivation(TimeSpan.Zero);
        }
    }

    /// <summary>
    /// Scans the customers' log (their own category) into <paramref name="generation"/>, after the
    /// orders: the customer projection joins the two whichever comes first. A customer whose log
    /// cannot be read, or whose projection fails, is announced again in the change index for the
    /// reconciliation (customers are not parked). Returns the events counted.
    /// </summary>
    private async Task<long> ProjectCustomersAsync(int generation)
    {
        var feed = new ProjectionFeed<CustomerEventEnvelope>(GrainFactory, EventCategories.Customers);
        var source = CustomerEventSource.Instance;
        var unreadable = new HashSet<string>(StringComparer.Ordinal);
        string? streamId = null;
        var events = new List<StoredEvent>();
        async Task ProjectStreamAsync()
        {
            if (unreadable.Contains(streamId!))
            {
                return;
            }

            try
            {
                foreach (var envelope in source.FromStored(streamId!, new CustomerState(), events))
                {
                    await feed.AddAsync(envelope, generation);
                }
            }
            catch (Exception exception) when (exception is not StorageUnavailableException)
            {
                unreadable.Add(streamId!);
                logger.LogError(exception, "The events of customer {CustomerId} cannot be read; the rebuild announces the customer again for the reconciliation.", streamId);
            }
        }

        await foreach (var (stream, stored) in logs.For(source.Category).ScanAllAsync(onUnreadable: (customerId, version, error) =>
        {
            if (unreadable.Add(customerId))
            {
                logger.LogError("Event {Version} of customer {CustomerId} cannot be read ({Error}); the rebuild announces the customer again for the reconciliation.", version, customerId, error.Message);
            }
        }))
        {
            if (stream != streamId && events.Count > 0)
            {
                await ProjectStreamAsync();
                events.Clear();
            }

            streamId = stream;
            events.Add(stored);
        }

        if (events.Count > 0)
        {
            await ProjectStreamAsync();
        }

        await feed.CompleteAsync();
        var failed = unreadable.Concat(feed.FailedOrders).Distinct(StringComparer.Ordinal).ToList();
        if (failed.Count > 0)
        {
            // One customer must not fail the rebuild (nor be left out for good): the reconciliation feeds them again later.
            await ParkedRetries.AnnounceAgainAsync(changes, time, source.Category, failed.Select(customerId => (customerId, 1)));
            logger.LogWarning("The rebuild could not count {Customers} customers completely; they are announced again for the reconciliation.", failed.Count);
        }

        OrderFlowTelemetry.RebuildEvents.Add(feed.Persisted);
        return feed.Persisted;
    }

    /// <summary>
    /// Deletes the stored state of every generation before <paramref name="generation"/> but the one
    /// that served until now (<paramref name="previous"/>; null when that one was of an outdated
    /// layout, which nothing feeds, so it goes now): failed rebuilds' partial generations and
    /// the generation replaced by the rebuild before. The one just replaced is kept until the next
    /// rebuild, when its grains have long been idle: deleting it now could race with an event
    /// still in flight to it, whose write-behind flush would recreate rows.
    /// </summary>
    private async Task DeleteSupersededAsync(int generation, int? previous)
    {
        for (var old = 1; old < generation; old++)
        {
            if (old == previous)
            {
                continue;
            }

            try
            {
                await janitor.DeleteGenerationAsync(old);
            }
            catch (Exception exception)
            {
                // The rebuild succeeded; what is left is only storage, deleted again after the next rebuild.
                logger.LogWarning(exception, "Deleting the stored state of superseded projection generation {Generation} failed.", old);
            }
        }
    }
}
