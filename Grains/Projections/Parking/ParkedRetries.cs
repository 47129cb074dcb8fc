using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Grains.Projections.Reconciliation;
using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Parking;

/// <summary>
/// How the reconciliation and a rebuild set aside what failed: the failures are parked
/// (<see cref="ParkedRecordsGrain"/>), and each stream involved (an order, a customer) is
/// announced again in the <see cref="ChangeIndex"/>, in its category, in the bucket of its retry,
/// so that the reconciliation reads it back from the log and feeds it again then. The change
/// index is the durable, unbounded list of streams to retry; the parked list says what failed and why.
/// </summary>
internal static class ParkedRetries
{
    /// <summary>The soonest a stream announced again can be read back: its change row's bucket must end and settle.</summary>
    public static TimeSpan SoonestRetry(EventStoreOptions eventStore, ReconciliationOptions reconciliation) =>
        eventStore.ChangeBucket + reconciliation.Settle;

    /// <summary>
    /// Parks the unreadable streams and the failed projections of every category in
    /// <paramref name="categories"/> (a projection that failed in several once); returns how many records that parked.
    /// </summary>
    /// <param name="soonestRetry">A change bucket and its settling time: the soonest an announced stream is read again.</param>
    public static async Task<int> ParkAsync(
        IGrainFactory grains, ChangeIndex changes, TimeProvider time, IReadOnlyList<StreamFailures> categories, TimeSpan soonestRetry)
    {
        var requests = new List<ParkRequest>();
        var retried = new List<(string Category, string StreamId, int Request)>();
        var projections = new Dictionary<string, int>(StringComparer.Ordinal);
        var streams = new Dictionary<(ParkedKind Kind, string Key), int>();
        foreach (var category in categories)
        {
            foreach (var (streamId, failure) in category.Unreadable)
            {
                // Once a record: a customer both unreadable and not counted is one parked customer, not two attempts.
                if (!streams.TryGetValue((failure.Kind, failure.Key), out var request))
                {
                    streams[(failure.Kind, failure.Key)] = request = requests.Count;
                    requests.Add(failure);
                }

                retried.Add((category.Category, streamId, request));
            }

            foreach (var failure in category.Projections)
            {
                if (!projections.TryGetValue(failure.Key, out var request))
                {
                    projections[failure.Key] = request = requests.Count;
                    requests.Add(new ParkRequest(ParkedKind.Projection, failure.Key, ProjectionRegistry.Describe(failure.Key), failure.Error.Message, soonestRetry));
                }

                retried.AddRange(failure.Streams.Keys.Select(streamId => (category.Category, streamId, request)));
            }
        }

        if (requests.Count == 0)
        {
            return 0;
        }

        var retries = await grains.GetGrain<IParking>(0).Park(requests);

        // A stream is retried at the latest retry of what it failed in.
        var retryOf = new Dictionary<(string Category, string StreamId), DateTimeOffset>();
        foreach (var (category, streamId, request) in retried)
        {
            var at = retries[request];
            retryOf[(category, streamId)] = retryOf.TryGetValue((category, streamId), out var other) && other > at ? other : at;
        }

        // Its row, in the bucket that comes due at the retry (never one that has settled already); the rows of a bucket in groups.
        var fromVersion = categories.ToDictionary(c => c.Category, c => c.FromVersion, StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var due = retryOf.Select(r => (r.Key.Category, r.Key.StreamId, At: r.Value - soonestRetry > now ? r.Value - soonestRetry : now));
        foreach (var bucket in due.GroupBy(r => changes.BucketOf(r.At)))
        {
            await RecordAsync(changes, bucket.Select(r => new ChangeToRecord(r.StreamId, fromVersion[r.Category](r.StreamId), r.Category)), bucket.First().At);
        }

        return requests.Count;
    }

    /// <summary>Records <paramref name="rows"/> in the bucket of <paramref name="at"/>, as many per transaction as a transaction takes.</summary>
    public static async Task RecordAsync(ChangeIndex changes, IEnumerable<ChangeToRecord> rows, DateTimeOffset at)
    {
        foreach (var group in rows.Chunk(TableLimits.MaxEntitiesPerTransaction))
        {
            await changes.RecordGroupAsync(group, at);
        }
    }
}
