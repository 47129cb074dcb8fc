namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// A projection state that <see cref="StatisticsGrainStorage"/> persists as a snapshot row and a
/// journal of what changed since (<see cref="ProjectionJournalEntry"/>, one row per write), so that
/// a flush writes what it counted, not the whole state again: a state that grows with the data (a
/// busy day's counted events, a customer's placements, a partition's open orders) is written whole
/// only once its journal has grown as large as it.
/// </summary>
/// <remarks>
/// Counting is idempotent (keyed by stream and version), so applying an entry whose events a
/// snapshot already holds changes nothing; an entry's <see cref="ProjectionJournalEntry.Side"/> is
/// the bookkeeping as it stood at that entry's write, which replaces the state's own.
/// </remarks>
public interface IJournaledProjectionState
{
    /// <summary>
    /// What was counted since the last changes taken, with the side as it stands now; the storage
    /// takes it when a write begins and serializes it in the same turn of the grain, with the state.
    /// </summary>
    ProjectionJournalEntry TakeChanges(DateTimeOffset now);

    /// <summary>The write that took <paramref name="changes"/> failed: they are pending again, before anything counted since.</summary>
    void ReturnChanges(ProjectionJournalEntry changes);

    /// <summary>Applies an entry read back from storage: counts its events, then takes its side.</summary>
    void Apply(ProjectionJournalEntry entry);
}
