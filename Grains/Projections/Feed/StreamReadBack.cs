using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Projections;
using OrderFlow.Storage;

namespace OrderFlow.Grains.Projections.Feed;

/// <summary>
/// Reads a stream of any category back from its log for the reconciliation and a rebuild, and
/// says what to park when it cannot, as the category declares (<see cref="EventCategories"/>): an
/// unreadable event on its own if the category parks events (<see cref="EventCategory.ParkedEventKind"/>:
/// orders; the events before it are counted), any other failure the stream (<see cref="EventCategory.ParkedStreamKind"/>).
/// </summary>
public static class StreamReadBack
{
    /// <summary>
    /// The most events read back in one storage call (and one response of the service: no
    /// continuation). A stream's tail read whole in one call, under one deadline, outlasted it once
    /// the tail was long (tens of thousands of refunds), and the reconciliation then failed every
    /// pass; read in pages, each call has its own deadline and a page's envelopes are fed before
    /// the next is read.
    /// </summary>
    public const int PageEvents = 1_000;

    /// <summary>
    /// The first page (<see cref="PageEvents"/>) of the stream's events after
    /// <paramref name="afterVersion"/>, from <paramref name="log"/> (the log of
    /// <paramref name="source"/>'s category); <see cref="ReadBack{TEnvelope}.Next"/> reads the
    /// following one. Storage being unavailable propagates (that is no fault of the stream's),
    /// unless <paramref name="parkWhenStorageFails"/>; anything else is the stream's own failure.
    /// </summary>
    /// <param name="parkWhenStorageFails">
    /// Storage not answering while this stream is read is the stream's failure too, to be parked and
    /// retried: for a caller that has just been answered by storage, so that one stream whose reads
    /// outlast their deadline every time (a very long fold) does not fail the others with it.
    /// </param>
    public static Task<ReadBack<TEnvelope>> ReadAfterAsync<TState, TEvent, TEnvelope>(
        EventSource<TState, TEvent, TEnvelope> source, TableEventStore log, string streamId, int afterVersion, TimeSpan retryNoSoonerThan,
        bool parkWhenStorageFails = false)
        where TState : class, IEventSourcedState<TState, TEvent>, new()
        where TEvent : class =>
        ReadPageAsync(source, log, streamId, afterVersion, before: null, retryNoSoonerThan, parkWhenStorageFails);

    private static async Task<ReadBack<TEnvelope>> ReadPageAsync<TState, TEvent, TEnvelope>(
        EventSource<TState, TEvent, TEnvelope> source, TableEventStore log, string streamId, int afterVersion, TState? before, TimeSpan retryNoSoonerThan,
        bool parkWhenStorageFails)
        where TState : class, IEventSourcedState<TState, TEvent>, new()
        where TEvent : class
    {
        IReadOnlyList<StoredEvent> stored;
        try
        {
            // From its first event (a new stream, the usual change): nothing before it to read.
            before ??= afterVersion == 0 ? new TState() : source.Fold(await log.LoadAtVersionAsync(streamId, afterVersion, readable: source.CanRead));
            stored = await log.ReadEventsAsync(streamId, afterVersion + 1, PageEvents);
        }
        catch (StorageUnavailableException exception) when (parkWhenStorageFails)
        {
            return new(streamId, [], StreamFailure(source.Category, streamId, $"Storage did not answer while its log was read back: {exception.Message}", retryNoSoonerThan))
            {
                StorageDidNotAnswer = true,
            };
        }
        catch (Exception exception) when (exception is not StorageUnavailableException)
        {
            return new(streamId, [], StreamFailure(source.Category, streamId, $"Its log cannot be read back: {exception.Message}", retryNoSoonerThan));
        }

        var page = FromStored(source, streamId, before, stored, retryNoSoonerThan, firstVersion: afterVersion + 1);
        if (page.Failure is not null || stored.Count < PageEvents)
        {
            return page;
        }

        // The state after this page, folded on a copy: the envelopes were built from `before`.
        var after = before.Copy();
        foreach (var e in stored)
        {
            after.Apply(EventSerializer<TEvent>.Deserialize(e));
        }

        return page with { Next = () => ReadPageAsync(source, log, streamId, stored[^1].Version, after, retryNoSoonerThan, parkWhenStorageFails) };
    }

    /// <summary>The envelopes of <paramref name="stored"/>, which follow <paramref name="before"/>, up to the first that cannot be made.</summary>
    /// <param name="firstVersion">The version the first of <paramref name="stored"/> should be, the one after <paramref name="before"/>'s.</param>
    public static ReadBack<TEnvelope> FromStored<TState, TEvent, TEnvelope>(
        EventSource<TState, TEvent, TEnvelope> source, string streamId, TState before, IReadOnlyList<StoredEvent> stored, TimeSpan retryNoSoonerThan,
        int firstVersion)
        where TState : class, IEventSourcedState<TState, TEvent>, new()
        where TEvent : class
    {
        var contiguous = EventSource<TState, TEvent, TEnvelope>.ContiguousCount(stored, firstVersion);
        if (contiguous < stored.Count)
        {
            var missing = firstVersion + contiguous;
            var gap = EventFailure(source.Category, streamId, missing,
                $"Event {missing} is missing from the log (a row deleted, or storage restored in part): the {stored.Count - contiguous} events read after it are not counted.", retryNoSoonerThan);
            var beforeGap = FromStored(source, streamId, before, [.. stored.Take(contiguous)], retryNoSoonerThan, firstVersion);
            return beforeGap with { Failure = beforeGap.Failure ?? gap };
        }

        try
        {
            return new(streamId, source.FromStored(streamId, before, stored), null);
        }
        catch (Exception failure)
        {
            for (var i = 0; i < stored.Count; i++)
            {
                var e = stored[i];
                try
                {
                    EventSerializer<TEvent>.Deserialize(e);
                }
                catch (Exception exception)
                {
                    var skipped = stored.Count - i;
                    var parked = EventFailure(source.Category, streamId, e.Version,
                        $"Event {e.Version} ({e.Type}) cannot be read: {exception.Message} It and the {skipped - 1} events after it are not counted.", retryNoSoonerThan);
                    try
                    {
                        return new(streamId, source.FromStored(streamId, before, [.. stored.Take(i)]), parked);
                    }
                    catch (Exception)
                    {
                        return new(streamId, [], parked);
                    }
                }
            }

            return new(streamId, [], StreamFailure(source.Category, streamId, $"Its events cannot be applied: {failure.Message}", retryNoSoonerThan));
        }
    }

    /// <summary>What to park for an event row of <paramref name="category"/> the log scan could not read at all (see <see cref="TableEventStore.ScanAllAsync"/>); version 0: its row key is no version either.</summary>
    public static ParkRequest UnreadableRow(string category, string streamId, int version, string error, TimeSpan retryNoSoonerThan) =>
        version > 0
            ? EventFailure(category, streamId, version, $"Event row {version} cannot be read: {error} It and the events after it are not counted.", retryNoSoonerThan)
            : StreamFailure(category, streamId, $"A row of its log cannot be read: {error} None of its events are counted.", retryNoSoonerThan);

    /// <summary>What to park for each event a projection of <paramref name="feed"/> could not count (<see cref="ProjectionFeed{TEnvelope}.Uncounted"/>).</summary>
    internal static IEnumerable<(string StreamId, ParkRequest Failure)> UncountedOf<TEnvelope>(
        string category, ProjectionFeed<TEnvelope> feed, TimeSpan retryNoSoonerThan) =>
        feed.Uncounted.Select(u => (u.StreamId, EventFailure(
            category, u.StreamId, u.Version, $"Event {u.Version} cannot be counted: {u.Reason} It and the events after it are not counted by that projection.", retryNoSoonerThan)));

    /// <summary>How a stream of <paramref name="category"/> is parked.</summary>
    public static ParkedKind KindOf(string category) => EventCategories.Named(category).ParkedStreamKind;

    private static ParkRequest StreamFailure(string category, string streamId, string reason, TimeSpan retryNoSoonerThan) =>
        new(KindOf(category), streamId, $"{category} '{streamId}'", reason, retryNoSoonerThan);

    /// <summary>An event is parked on its own if its category parks events (an order's); else its stream is parked whole (a customer).</summary>
    private static ParkRequest EventFailure(string category, string streamId, int version, string reason, TimeSpan retryNoSoonerThan) =>
        EventCategories.Named(category).ParkedEventKind is { } eventKind
            ? new(eventKind, ParkedRecordsGrain.EventKey(streamId, version), $"event {version} of {category} '{streamId}'", reason, retryNoSoonerThan)
            : StreamFailure(category, streamId, reason, retryNoSoonerThan);
}
