using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Grains.Projections.Reconciliation;
using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Parking;

/// <summary>
/// How the reconciliation and a rebuild set aside what failed: the failures are parked
/// (<see cref="ParkedRecordsGrain"/>), and each order involved is announced again in the
/// <see cref="ChangeIndex"/> in the bucket of its retry, so that the reconciliation reads it back
/// from the log and feeds it again then. The change index is the durable, unbounded list of orders
/// to retry; the parked list says what failed and why.
/// </summary>
internal static class ParkedRetries
{
    /// <summary>The soonest an order announced again can be read back: its change row's bucket must end and settle.</summary>
    public static TimeSpan SoonestRetry(EventStoreOptions eventStore, ReconciliationOptions reconciliation) =>
        eventStore.ChangeBucket + reconciliation.Settle;

    /// <summary>Parks <paramref name="unreadable"/> orders and <paramref name="failures"/> of projections; returns how many records that parked.</summary>
    /// <param name="fromVersion">The version an order is to be read again from.</param>
    /// <param name="soonestRetry">A change bucket and its settling time: the soonest an announced order is read again.</param>
    public static async Task<int> ParkAsync(
        IGrainFactory grains, ChangeIndex changes, TimeProvider time,
        IReadOnlyList<(string OrderId, ParkRequest Failure)> unreadable, IReadOnlyCollection<ProjectionFailure> failures,
        Func<string, int> fromVersion, TimeSpan soonestRetry)
    {
        var requests = unreadable.Select(u => u.Failure)
            .Concat(failures.Select(f => new ParkRequest(ParkedKind.Projection, f.Key, ProjectionRegistry.Describe(f.Key), f.Error.Message, soonestRetry)))
            .ToList();
        if (requests.Count == 0)
        {
            return 0;
        }

        var retries = await grains.GetGrain<IParking>(0).Park(requests);

        // An order is retried at the latest retry of what it failed in.
        var retryOf = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        void Later(string orderId, DateTimeOffset at) => retryOf[orderId] = retryOf.TryGetValue(orderId, out var other) && other > at ? other : at;
        for (var i = 0; i < unreadable.Count; i++)
        {
            Later(unreadable[i].OrderId, retries[i]);
        }

        var i2 = unreadable.Count;
        foreach (var failure in failures)
        {
            foreach (var orderId in failure.Orders.Keys)
            {
                Later(orderId, retries[i2]);
            }

            i2++;
        }

        // Its row, in the bucket that comes due at the retry (never one that has settled already); the rows of a bucket in groups.
        var now = time.GetUtcNow();
        var due = retryOf.Select(r => (OrderId: r.Key, At: r.Value - soonestRetry > now ? r.Value - soonestRetry : now));
        foreach (var bucket in due.GroupBy(r => changes.BucketOf(r.At)))
        {
            await RecordAsync(changes, bucket.Select(r => new ChangeToRecord(r.OrderId, fromVersion(r.OrderId))), bucket.First().At);
        }

        return requests.Count;
    }

    /// <summary>
    /// Announces <paramref name="streams"/> of <paramref name="category"/> again in the bucket of
    /// now, so that the reconciliation reads them back and feeds them once it has settled: the retry
    /// of a category that is not parked (customers). Their old rows can then go, so that a stream that
    /// keeps failing moves on with the buckets instead of holding up the oldest one.
    /// </summary>
    public static Task AnnounceAgainAsync(ChangeIndex changes, TimeProvider time, string category, IEnumerable<(string StreamId, int From)> streams) =>
        RecordAsync(changes, streams.Select(s => new ChangeToRecord(s.StreamId, s.From, category)), time.GetUtcNow());

    /// <summary>Records <paramref name="rows"/> in the bucket of <paramref name="at"/>, as many per transaction as a transaction takes.</summary>
    private static async Task RecordAsync(ChangeIndex changes, IEnumerable<ChangeToRecord> rows, DateTimeOffset at)
    {
        foreach (var group in rows.Chunk(TableLimits.MaxEntitiesPerTransaction))
        {
            await changes.RecordGroupAsync(group, at);
        }
    }
}
