using OrderFlow.Grains.EventStore;

namespace OrderFlow.Statistics.Tests.Model;

/// <summary>The orders' event log as stored, read by a store independent of any silo: what the statistics must equal a fold of.</summary>
public static class EventLog
{
    /// <summary>Every order's events, in version order.</summary>
    public static async Task<Dictionary<string, List<StoredEvent>>> ReadAsync(TableEventStore store, CancellationToken cancellationToken)
    {
        var log = new Dictionary<string, List<StoredEvent>>(StringComparer.Ordinal);
        await foreach (var (orderId, stored) in store.ScanAllAsync(cancellationToken: cancellationToken))
        {
            if (!log.TryGetValue(orderId, out var events))
            {
                log[orderId] = events = [];
            }

            events.Add(stored);
        }

        foreach (var events in log.Values)
        {
            events.Sort((a, b) => a.Version.CompareTo(b.Version));
        }

        return log;
    }

    /// <summary>The test's expectation: its own fold of every event in the log.</summary>
    public static async Task<Expected> ExpectedAsync(TableEventStore store, CancellationToken cancellationToken) =>
        new((await ReadAsync(store, cancellationToken)).SelectMany(pair => Facts.ForOrder(pair.Key, Facts.FromLog(pair.Value))));
}
