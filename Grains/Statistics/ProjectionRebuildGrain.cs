using Microsoft.Extensions.Logging;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>Runs one rebuild (key: the rebuild id).</summary>
public interface IProjectionRebuildGrain : IGrainWithStringKey
{
    /// <summary>Starts scanning the log into <paramref name="generation"/> in the background.</summary>
    Task Start(int generation);
}

/// <summary>
/// Scans the whole event log, stream by stream, rebuilds each order's envelopes exactly as the
/// order grain publishes them, and projects them into the new generation; then reports to
/// <see cref="ProjectionControlGrain"/>, which switches generations, and deletes the stored state of
/// superseded ones.
/// </summary>
public sealed class ProjectionRebuildGrain(TableEventStore store, ProjectionStateJanitor janitor, ILogger<ProjectionRebuildGrain> logger) : Grain, IProjectionRebuildGrain
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
        var feed = new ProjectionFeed(GrainFactory);
        var previous = await control.Serving(); // null: an outdated layout, which nothing feeds any more
        try
        {
            string? streamId = null;
            var events = new List<StoredEvent>();
            await foreach (var (stream, stored) in store.ScanAllAsync())
            {
                if (stream != streamId && events.Count > 0)
                {
                    await ProjectStreamAsync(events);
                    events.Clear();
                }

                streamId = stream;
                events.Add(stored);
            }

            if (events.Count > 0)
            {
                await ProjectStreamAsync(events);
            }

            await feed.CompleteAsync();

            // Before reporting completion, so that "completed" also means "old state cleared".
            await DeleteSupersededAsync(generation, previous);
            await control.Finish(id, feed.Persisted, null);
            logger.LogInformation("Projection rebuild {Id} projected {Events} events into generation {Generation}.", id, feed.Persisted, generation);

            async Task ProjectStreamAsync(List<StoredEvent> stream)
            {
                foreach (var envelope in OrderEventEnvelopes.FromStored(new OrderState(), stream))
                {
                    if (await feed.AddAsync(envelope, generation))
                    {
                        await control.Progress(id, feed.Persisted);
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
