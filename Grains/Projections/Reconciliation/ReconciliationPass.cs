namespace OrderFlow.Grains.Projections.Reconciliation;

/// <param name="Changes">Change-index rows dealt with (and removed).</param>
/// <param name="Orders">Orders read back from the log.</param>
/// <param name="Events">Events durably counted, once per generation they were fed to.</param>
/// <param name="Failed">Orders not (completely) counted: unreadable, or fed to a projection that failed. Parked and announced again for the time of their retry, except those whose reads storage did not answer for the first time in a row: those are only announced again, to be read in a later pass.</param>
/// <param name="Unparked">Parked records that succeeded in this pass and were removed.</param>
/// <param name="Repaired">Events of <paramref name="Events"/> that some projection had not counted before (what the stream or a lost flush had missed).</param>
[GenerateSerializer, Alias("orderflow.reconciliation-pass")]
public sealed record ReconciliationPass(
    [property: Id(0)] int Changes,
    [property: Id(1)] int Orders,
    [property: Id(2)] long Events,
    [property: Id(3)] int Failed,
    [property: Id(4)] int Unparked = 0,
    [property: Id(5)] long Repaired = 0);
