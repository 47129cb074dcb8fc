using OrderFlow.Grains.EventStore;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// The envelopes this silo's event-sourced grains confirmed lately, stream by stream, so that the
/// reconciliation can feed a stream's announced appends to the projections without reading them
/// back from the log (see <see cref="TakeAfter{TEnvelope}"/>). A silo service, not grain state: the
/// reconciler reads it without activating a grain, and it outlives an activation's collection.
/// </summary>
/// <remarks>
/// <para>
/// What it holds of a stream is exactly what the log holds: envelopes of appends that this silo's
/// activation of the stream wrote and saw confirmed (every append is conditional on the head's
/// ETag and inserts rows that cannot already exist, so no other writer can hold those versions),
/// contiguous, newest last, built as the stream's read-back builds them (<see cref="EventSource{TState,TEvent,TEnvelope}.Build"/>).
/// An activation marks its stream while an append is in flight (<see cref="Appending"/>), and forgets
/// it when it reloads, when an append fails or may land unseen, and when events are confirmed
/// another way (<see cref="Forget"/>). After storage has been seen losing writes
/// (<see cref="StorageRollbacks"/>), nothing recorded before is answered.
/// </para>
/// <para>
/// Bounded: the newest <see cref="MaxPerStream"/> envelopes of a stream and
/// <see cref="MaxEnvelopes"/> in all (<c>Statistics:Reconciliation:HeldEnvelopes</c>). A regular reconciliation pass removes what it was handed;
/// streams it never asks about (reconciliation off, or run by another silo) expire after
/// <see cref="HoldFor"/>, swept at most every half minute as streams are confirmed. Whatever is not held is read
/// from the log as before: holding less only costs reads.
/// </para>
/// </remarks>
public sealed class ConfirmedEnvelopes(StorageRollbacks rollbacks, TimeProvider time, int maxEnvelopes = ConfirmedEnvelopes.DefaultMaxEnvelopes)
{
    /// <summary>Envelopes held per stream: a stream appending many events in one change bucket (a refund-heavy order) keeps its newest.</summary>
    public const int MaxPerStream = 64;

    /// <summary>
    /// Envelopes held per silo unless configured otherwise: some 370 bytes each for an order of one
    /// line, so about 53 MiB, enough for some 1,150 events/s on the silo that reconciles with the
    /// default change bucket and settling time (README "Configuration").
    /// </summary>
    public const int DefaultMaxEnvelopes = 150_000;

    /// <summary>Envelopes held per silo, all streams together (0: none).</summary>
    public int MaxEnvelopes { get; } = maxEnvelopes >= 0 ? maxEnvelopes
        : throw new ArgumentOutOfRangeException(nameof(maxEnvelopes), maxEnvelopes, "A silo holds 0 envelopes or more.");

    /// <summary>How long a stream's envelopes are kept when no reconciliation pass asks for them: far beyond a change bucket and its settling time (two minutes by default).</summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromMinutes(10);

    /// <summary>How often a silo sweeps expired streams (a sweep visits every stream held).</summary>
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(30);

    private readonly Lock gate = new();
    private readonly Dictionary<(string Category, string StreamId), Held> streams = new();
    private int count;
    private long lastSweep;

    /// <summary>Envelopes held now, all streams together.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return count;
            }
        }
    }

    /// <summary>An append of the stream is about to be written: until it is confirmed or forgotten, nothing of the stream is answered.</summary>
    public void Appending(string category, string streamId)
    {
        lock (gate)
        {
            var key = (category, streamId);
            if (!streams.TryGetValue(key, out var held))
            {
                streams[key] = held = new Held(rollbacks.Count);
            }

            held.Appending = true;
        }
    }

    /// <summary>
    /// The append marked by <see cref="Appending"/> is confirmed: its <paramref name="envelopes"/>, versions
    /// <paramref name="firstVersion"/> on, were announced in the change-index row of version
    /// <paramref name="announcedFrom"/> (the stream's first append in that row's bucket).
    /// </summary>
    public void Confirmed<TEnvelope>(string category, string streamId, int firstVersion, IReadOnlyList<TEnvelope> envelopes, int announcedFrom)
    {
        lock (gate)
        {
            var key = (category, streamId);
            if (!streams.TryGetValue(key, out var held) || held.Rollbacks != rollbacks.Count)
            {
                Remove(key);
                streams[key] = held = new Held(rollbacks.Count) { Appending = true };
            }

            if (held.Envelopes.Count > 0 && held.Through != firstVersion - 1)
            {
                // Not contiguous with what is held (confirmed some other way): only the new ones are known to be this writer's.
                count -= held.Envelopes.Count;
                held.Envelopes.Clear();
            }

            // Still marked as appending, so that a sweep leaves this stream alone. Swept whenever due,
            // not only at the bound: a silo whose streams no pass asks about (the reconciler runs on
            // another silo) would otherwise sit at the bound for good.
            SweepExpired();
            if (count + envelopes.Count > MaxEnvelopes)
            {
                Remove(key);
                return;
            }

            held.Appending = false;
            foreach (var envelope in envelopes)
            {
                held.Envelopes.Add((envelope, announcedFrom));
            }

            count += envelopes.Count;
            held.Through = firstVersion + envelopes.Count - 1;
            held.ConfirmedAt = time.GetTimestamp();
            var excess = held.Envelopes.Count - MaxPerStream;
            if (excess > 0)
            {
                held.Envelopes.RemoveRange(0, excess);
                count -= excess;
            }
        }
    }

    /// <summary>Nothing held of the stream is to be answered any more (its writer reloads, or an append of it failed or may land unseen).</summary>
    public void Forget(string category, string streamId)
    {
        lock (gate)
        {
            Remove((category, streamId));
        }
    }

    /// <summary>
    /// The stream's envelopes after <paramref name="afterVersion"/>, when every one of them up to the
    /// last version this silo confirmed is held and that version is at least
    /// <paramref name="announcedThrough"/> (the highest version the change rows being dealt with
    /// announce: a higher one was, or may yet be, written by someone else); null when the log must be read.
    /// Either way, what the rows announced up to <paramref name="announcedThrough"/> is handed over and
    /// no longer held: a later row about those versions (a repair, a retry, a pass that failed) reads the log.
    /// </summary>
    public List<TEnvelope>? TakeAfter<TEnvelope>(string category, string streamId, int afterVersion, int announcedThrough)
    {
        lock (gate)
        {
            var key = (category, streamId);
            if (!streams.TryGetValue(key, out var held))
            {
                return null;
            }

            if (held.Rollbacks != rollbacks.Count)
            {
                Remove(key);
                return null;
            }

            var first = held.Through - held.Envelopes.Count + 1;
            List<TEnvelope>? envelopes = null;
            if (!held.Appending && held.Envelopes.Count > 0 && first <= afterVersion + 1 && announcedThrough <= held.Through)
            {
                envelopes = [.. held.Envelopes.Skip(afterVersion + 1 - first).Select(e => (TEnvelope)e.Envelope!)];
            }

            var handedOver = held.Envelopes.FindIndex(e => e.AnnouncedFrom > announcedThrough);
            if (handedOver < 0)
            {
                handedOver = held.Envelopes.Count;
            }

            held.Envelopes.RemoveRange(0, handedOver);
            count -= handedOver;
            if (held.Envelopes.Count == 0 && !held.Appending)
            {
                streams.Remove(key);
            }

            return envelopes;
        }
    }

    private void Remove((string Category, string StreamId) key)
    {
        if (streams.Remove(key, out var held))
        {
            count -= held.Envelopes.Count;
        }
    }

    /// <summary>Removes streams not confirmed for <see cref="HoldFor"/>, at most once per <see cref="SweepEvery"/>; false when it is not yet time to.</summary>
    private bool SweepExpired()
    {
        if (lastSweep != 0 && time.GetElapsedTime(lastSweep) < SweepEvery)
        {
            return false;
        }

        lastSweep = time.GetTimestamp();
        foreach (var (key, held) in streams.Where(s => !s.Value.Appending && time.GetElapsedTime(s.Value.ConfirmedAt) >= HoldFor).ToList())
        {
            streams.Remove(key);
            count -= held.Envelopes.Count;
        }

        return true;
    }

    /// <summary>What is held of one stream: <see cref="Envelopes"/> are versions up to <see cref="Through"/>, each with the version its change row announced.</summary>
    private sealed class Held(long rollbacks)
    {
        public long Rollbacks { get; } = rollbacks;

        public List<(object? Envelope, int AnnouncedFrom)> Envelopes { get; } = [];

        public int Through { get; set; }

        public bool Appending { get; set; }

        public long ConfirmedAt { get; set; }
    }
}
