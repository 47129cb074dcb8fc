using Orleans.Concurrency;

namespace OrderFlow.Grains.Projections.Reconciliation;

/// <summary>Brings the projections up to date with the event log for the orders that changed lately (key: 0).</summary>
public interface IProjectionReconcilerGrain : IGrainWithIntegerKey
{
    /// <summary>Deals with one batch of changes whose bucket has settled; what it did, all zero when nothing was due.</summary>
    Task<ReconciliationPass> Reconcile();

    /// <summary>
    /// Silos were declared dead (the caller saw it at <paramref name="membershipVersion"/>): what
    /// their projections counted but had not persisted, and what their orders confirmed but had not
    /// published, is gone. A catch-up pass feeds every change of the index again, settled or not,
    /// at once instead of after <see cref="ReconciliationOptions.Settle"/>. Answers at once (the
    /// pass runs after, never beside another pass); true when that queued a pass, false when every
    /// one of the silos had been handled (every surviving silo reports each death).
    /// </summary>
    [AlwaysInterleave]
    Task<bool> CatchUp(IReadOnlyList<SiloAddress> deadSilos, long membershipVersion);

    /// <summary>The catch-up passes this activation completed, and the last one's figures.</summary>
    Task<CatchUpReport> CatchUps();
}
