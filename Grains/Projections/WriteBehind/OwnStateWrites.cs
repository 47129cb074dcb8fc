using Orleans.Storage;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>How projection grains write their state.</summary>
public static class OwnStateWrites
{
    /// <summary>
    /// Writes the state; if storage answers that the row changed since it was read (ETag
    /// mismatch), reads the row's current ETag and writes this activation's state over it.
    /// </summary>
    /// <remarks>
    /// A projection grain is its row's only writer (one activation per grain), so a changed row is
    /// its own earlier write that landed although the answer was lost (the storage client timed
    /// out and retried a conditional write that had succeeded; seen under load). Without this, every
    /// later write of the activation failed the same way and its counts never reached storage. The
    /// in-memory state already holds everything that row can hold. Should two activations of one
    /// grain ever coexist (Orleans prevents it, short of a cluster membership failure), this
    /// overwrites the other's write: counts are then counted again by the reconciliation only
    /// while their orders' change rows remain, and a month's product increments are lost.
    /// </remarks>
    /// <exception cref="ProjectionStateTooLargeException">The state outgrew its table entity.</exception>
    public static async Task WriteOwnStateAsync<T>(this IPersistentState<T> state, CancellationToken cancellationToken = default)
    {
        try
        {
            try
            {
                await state.WriteStateAsync(cancellationToken);
            }
            catch (InconsistentStateException)
            {
                var mine = state.State;
                await state.ReadStateAsync(cancellationToken);
                state.State = mine;
                await state.WriteStateAsync(cancellationToken);
            }
        }
        catch (Exception exception) when (ProjectionStateTooLargeException.IsCause(exception))
        {
            throw new ProjectionStateTooLargeException(
                $"The state of a {typeof(T).Name} outgrew its table entity; it is not persisted any more (README \"Capacity\" gives each projection's envelope).",
                exception);
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/>; if it fails, <paramref name="deactivate"/> (the grain's
    /// <c>DeactivateOnIdle</c>) before the error goes on: the state in memory may now hold what
    /// storage does not, and a retry that found its change already made would write nothing. Only
    /// a new activation, reading storage, can say what landed.
    /// </summary>
    public static async Task DeactivatingOnFailureAsync(Func<Task> write, Action deactivate)
    {
        try
        {
            await write();
        }
        catch
        {
            deactivate();
            throw;
        }
    }
}
