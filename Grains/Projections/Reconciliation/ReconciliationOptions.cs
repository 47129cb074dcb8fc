namespace OrderFlow.Grains.Projections.Reconciliation;

/// <summary>How the projections are reconciled with the event log (section <c>Statistics:Reconciliation</c>); see <see cref="ProjectionReconcilerGrain"/>.</summary>
public sealed class ReconciliationOptions
{
    /// <summary>Whether silos run the reconciliation on their own, every <see cref="Interval"/>.</summary>
    public bool Enabled { get; set; } = true;

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after a change-index bucket ends its changes are reconciled. Must exceed the
    /// longest an append can land after it was announced, plus the clock difference between
    /// silos: the writer gives up after two event-log operations (2 × 6 s by default), but a
    /// request it gave up on can still be carried out by the server until Azure's 30 s server
    /// timeout for a table operation.
    /// </summary>
    public TimeSpan Settle { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Changes dealt with per pass, so that a pass answers well within Orleans' call timeout; a full pass is followed by another at once.</summary>
    public int MaxChangesPerPass { get; set; } = 200;

    /// <summary>
    /// Envelopes a silo holds of what its grains confirmed, for a pass to take instead of reading
    /// the log (<see cref="EventSourcing.ConfirmedEnvelopes"/>); 0 holds none. A pass takes a
    /// change bucket once it has settled, so holding every event a silo confirms takes its rate
    /// times the bucket, <see cref="Settle"/> and <see cref="Interval"/> (at least 130 s by default,
    /// more while a bucket's rows take several passes);
    /// beyond the bound a stream's changes are read back from the log, one query each.
    /// </summary>
    public int HeldEnvelopes { get; set; } = EventSourcing.ConfirmedEnvelopes.DefaultMaxEnvelopes;
}
