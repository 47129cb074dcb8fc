using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Projections;
using OrderFlow.Storage;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Feed;

/// <summary>
/// An order's events read back from the log as envelopes, as far as they can be read: the
/// envelopes before the first event that cannot be (a corrupt row), and that failure, to be parked
/// (<see cref="ParkedRecordsGrain"/>) instead of failing the whole reconciliation or rebuild.
/// </summary>
/// <param name="Failure">Null when every event was read; otherwise what to park (the event, or the whole order when no single event is to blame).</param>
public sealed record OrderReadBack(string OrderId, List<OrderEventEnvelope> Envelopes, ParkRequest? Failure)
{
    /// <summary>
    /// The order's events after <paramref name="afterVersion"/>. Storage being unavailable
    /// propagates (that is no fault of the order's); anything else is the order's own failure.
    /// </summary>
    public static async Task<OrderReadBack> ReadAfterAsync(TableEventStore store, string orderId, int afterVersion, TimeSpan retryNoSoonerThan)
    {
        OrderState before;
        IReadOnlyList<StoredEvent> stored;
        try
        {
            // From its first event (a new order, the usual change): nothing before it to read.
            before = afterVersion == 0 ? new OrderState() : OrderState.Fold(await store.LoadAtVersionAsync(orderId, afterVersion));
            stored = await store.ReadEventsAsync(orderId, afterVersion + 1, int.MaxValue);
        }
        catch (Exception exception) when (exception is not StorageUnavailableException)
        {
            return new(orderId, [], OrderFailure(orderId, $"Its log cannot be read back: {exception.Message}", retryNoSoonerThan));
        }

        return FromStored(orderId, before, stored, retryNoSoonerThan);
    }

    /// <summary>The envelopes of <paramref name="stored"/>, which follow <paramref name="before"/>, up to the first that cannot be made.</summary>
    public static OrderReadBack FromStored(string orderId, OrderState before, IReadOnlyList<StoredEvent> stored, TimeSpan retryNoSoonerThan)
    {
        try
        {
            return new(orderId, OrderEventEnvelopes.FromStored(orderId, before, stored), null);
        }
        catch (Exception failure)
        {
            for (var i = 0; i < stored.Count; i++)
            {
                var e = stored[i];
                try
                {
                    OrderEventSerializer.Deserialize(e.Type, e.SchemaVersion, e.Data);
                }
                catch (Exception exception)
                {
                    var skipped = stored.Count - i;
                    var reason = $"Event {e.Version} ({e.Type}) cannot be read: {exception.Message} It and the {skipped - 1} events after it are not counted.";
                    var parked = new ParkRequest(ParkedKind.Event, ParkedRecordsGrain.EventKey(orderId, e.Version), $"event {e.Version} of order '{orderId}'", reason, retryNoSoonerThan);
                    try
                    {
                        return new(orderId, OrderEventEnvelopes.FromStored(orderId, before, [.. stored.Take(i)]), parked);
                    }
                    catch (Exception)
                    {
                        return new(orderId, [], parked);
                    }
                }
            }

            return new(orderId, [], OrderFailure(orderId, $"Its events cannot be applied: {failure.Message}", retryNoSoonerThan));
        }
    }

    /// <summary>What to park for an event row the log scan could not read at all (see <see cref="TableEventStore.ScanAllAsync"/>); version 0: its row key is no version either.</summary>
    public static ParkRequest UnreadableRow(string orderId, int version, string error, TimeSpan retryNoSoonerThan) =>
        version > 0
            ? new(ParkedKind.Event, ParkedRecordsGrain.EventKey(orderId, version), $"event {version} of order '{orderId}'",
                $"Event row {version} cannot be read: {error} It and the events after it are not counted.", retryNoSoonerThan)
            : OrderFailure(orderId, $"A row of its log cannot be read: {error} None of its events are counted.", retryNoSoonerThan);

    private static ParkRequest OrderFailure(string orderId, string reason, TimeSpan retryNoSoonerThan) =>
        new(ParkedKind.Order, orderId, $"order '{orderId}'", reason, retryNoSoonerThan);
}
