using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Projections;
using OrderFlow.Storage;

namespace OrderFlow.Grains.Projections.Rebuild;

/// <summary>
/// Scans the whole event log of every registered category (<see cref="EventCategories.All"/>:
/// orders, then customers), stream by stream, rebuilds each stream's envelopes exactly as its
/// grain publishes them, and projects them into the new generation; then reports to
/// <see cref="ProjectionControlGrain"/>, which switches generations, and deletes the stored state of
/// superseded ones.
/// </summary>
/// <remarks>
/// One bad record does not fail the rebuild: an event that cannot be read parks it (an order's) or
/// its stream (a customer's), as its category declares (the events before it are counted, it and
/// those after it are not), and a projection grain that fails parks that key (<see cref="ParkedRetries"/>). The rebuild
/// completes, and still switches generations: the parked records say what the new generation is
/// missing, and the reconciliation retries them (into whichever generations are live then) until
/// they succeed. Its status counts them (<see cref="RebuildStatus.Parked"/>).
/// </remarks>
public sealed class ProjectionRebuildGrain(
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
        var soonestRetry = ParkedRetries.SoonestRetry(eventStore.Value, options.Value.Reconciliation);
        var previous = await control.Serving(); // null: an outdated layout, which nothing feeds any more
        var feeds = new List<Func<long>>(); // what each category's feed has persisted so far
        long reported = 0;
        long Persisted() => feeds.Sum(persisted => persisted());
        async Task ReportProgressAsync()
        {
            await control.Progress(id, Persisted());
            OrderFlowTelemetry.RebuildEvents.Add(Persisted() - reported);
            reported = Persisted();
        }

        var scanned = false;
        try
        {
            // Every registered category in turn. Streams are read again from their first event: what a projection already counted, it skips.
            var scan = new CategoryScan(this, generation, ReportProgressAsync, soonestRetry, feeds);
            var failures = new List<StreamFailures>(EventCategories.All.Count);
            foreach (var category in EventCategories.All)
            {
                failures.Add(await category.Accept(scan));
            }

            var parked = await ParkedRetries.ParkAsync(GrainFactory, changes, time, failures, soonestRetry);
            scanned = true;

            // Before reporting completion, so that "completed" also means "old state cleared".
            await DeleteSupersededAsync(generation, previous);

            // The generation is complete: a passing failure to record that must not fail the rebuild.
            await WithRetriesAsync(async () =>
            {
                await ReportProgressAsync();
                await control.Finish(id, Persisted(), null, parked);
                return true;
            });
            if (parked > 0)
            {
                logger.LogWarning(
                    "Projection rebuild {Id} projected {Events} events into generation {Generation} and parked {Parked} records (streams not completely counted: {NotCounted}); they are retried by the reconciliation. See GET /api/admin/parked.",
                    id, Persisted(), generation, parked, string.Join(", ", failures.Select(f => $"{f.Category}: {f.Streams.Count}")));
            }
            else
            {
                logger.LogInformation("Projection rebuild {Id} projected {Events} events into generation {Generation}.", id, Persisted(), generation);
            }
        }
        catch (Exception exception) when (!scanned)
        {
            logger.LogError(exception, "Projection rebuild {Id} failed after {Events} events; the serving generation is unchanged.", id, Persisted());
            await control.Finish(id, Persisted(), exception.Message);
        }
        catch (Exception exception)
        {
            // Reported as failed, the complete generation would be thrown away: it stays running, and
            // the control's watch starts it again (what it projected is skipped as already counted).
            logger.LogError(exception, "Projection rebuild {Id} projected the whole log ({Events} events) but could not record its end; it stays running and is started again within {Watch}.",
                id, Persisted(), ProjectionControlGrain.RebuildWatch);
        }
        finally
        {
            DelayDeactivation(TimeSpan.Zero);
        }
    }

    /// <summary>Runs <paramref name="step"/>, again after 1 s and 2 s if it fails: storage or a grain that fails for a moment.</summary>
    private static async Task<T> WithRetriesAsync<T>(Func<Task<T>> step)
    {
        for (var wait = TimeSpan.FromSeconds(1); ; wait *= 2)
        {
            try
            {
                return await step();
            }
            catch (Exception) when (wait <= TimeSpan.FromSeconds(2))
            {
                await Task.Delay(wait);
            }
        }
    }

    /// <summary>
    /// Scans the whole log of <paramref name="source"/>'s category into <paramref name="generation"/>
    /// through <paramref name="feed"/>, calling <paramref name="batchSent"/> after each batch it
    /// sends; returns the streams that could not be read completely (the events before the first
    /// unreadable one are counted), with what to park for each.
    /// </summary>
    private async Task<List<(string StreamId, ParkRequest Failure)>> ScanAsync<TState, TEvent, TEnvelope>(
        EventSource<TState, TEvent, TEnvelope> source, ProjectionFeed<TEnvelope> feed, int generation, Func<Task> batchSent, TimeSpan soonestRetry)
        where TState : class, IEventSourcedState<TState, TEvent>, new()
        where TEvent : class
    {
        var unreadable = new List<(string StreamId, ParkRequest Failure)>();
        var unreadableRows = new Dictionary<string, (int Version, ParkRequest Failure)>(StringComparer.Ordinal);
        string? streamId = null;
        var events = new List<StoredEvent>();
        async Task ProjectStreamAsync()
        {
            var stream = events;
            if (unreadableRows.Remove(streamId!, out var damaged))
            {
                // Counted up to the damaged row, as for an event whose payload cannot be read.
                unreadable.Add((streamId!, damaged.Failure));
                stream = [.. stream.Where(e => e.Version < damaged.Version)];
            }

            var read = StreamReadBack.FromStored(source, streamId!, new TState(), stream, soonestRetry, firstVersion: 1);
            if (read.Failure is not null)
            {
                unreadable.Add((streamId!, read.Failure));
            }

            foreach (var envelope in read.Envelopes)
            {
                if (await feed.AddAsync(envelope, generation))
                {
                    await batchSent();
                }
            }
        }

        await foreach (var (stream, stored) in logs.For(source.Category).ScanAllAsync(onUnreadable: (unreadableId, version, error) =>
            unreadableRows.TryAdd(unreadableId, (version, StreamReadBack.UnreadableRow(source.Category, unreadableId, version, error.Message, soonestRetry)))))
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

        // Streams none of whose rows could be read.
        unreadable.AddRange(unreadableRows.Select(row => (row.Key, row.Value.Failure)));
        await feed.CompleteAsync();
        return unreadable;
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

    /// <summary>
    /// Scans one registered category's whole log into the new generation through a feed of its
    /// envelopes (<see cref="ScanAsync"/>); what is left to park, with a stream read again from its first event.
    /// </summary>
    private sealed class CategoryScan(
        ProjectionRebuildGrain rebuild, int generation, Func<Task> batchSent, TimeSpan soonestRetry, List<Func<long>> feeds)
        : IEventCategoryVisitor<Task<StreamFailures>>
    {
        public async Task<StreamFailures> Visit<TState, TEvent, TEnvelope>(EventSource<TState, TEvent, TEnvelope> source, EventCategory<TEnvelope> category)
            where TState : class, IEventSourcedState<TState, TEvent>, new()
            where TEvent : class
        {
            var feed = new ProjectionFeed<TEnvelope>(rebuild.GrainFactory, category);
            feeds.Add(() => feed.Persisted);
            var unreadable = await rebuild.ScanAsync(source, feed, generation, batchSent, soonestRetry);
            return new StreamFailures(category.Name, [.. unreadable, .. StreamReadBack.UncountedOf(category.Name, feed, soonestRetry)], feed.Failures, _ => 1);
        }
    }
}
