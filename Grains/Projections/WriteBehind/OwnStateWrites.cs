using OrderFlow.Grains.Projections.Storage;
using Orleans.Storage;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>How projection grains write their state.</summary>
public static class OwnStateWrites
{
    /// <summary>
    /// Writes the state; if storage answers that the row changed since it was read (ETag
    /// mismatch), reads the row's current ETag and, if this activation wrote the row last, writes
    /// its state over it. If another activation of the grain wrote it, <paramref name="owner"/>
    /// deactivates and the write fails with <see cref="ProjectionSupersededException"/>.
    /// </summary>
    /// <remarks>
    /// A row this activation wrote last is its own earlier write that landed although the answer
    /// was lost (the storage client timed out and retried a conditional write that had succeeded;
    /// seen under load); without writing over it, every later write of the activation failed the
    /// same way and its counts never reached storage. The in-memory state already holds everything
    /// that row can hold. Another activation's row is a different matter: Orleans keeps one
    /// activation per grain, but not while the cluster's membership changes (a rolling restart ran
    /// two activations of a day for a moment), and writing over the other's row lost what it had
    /// counted and pushed to its month; the storage tells the two apart (<see cref="StatisticsGrainStorage"/>).
    /// </remarks>
    /// <exception cref="ProjectionStateTooLargeException">The state outgrew its table entity.</exception>
    /// <exception cref="ProjectionSupersededException">Another activation wrote the state; this one is deactivating.</exception>
    public static async Task WriteOwnStateAsync<T>(this IPersistentState<T> state, IGrainBase owner, CancellationToken cancellationToken = default)
    {
        try
        {
            try
            {
                await state.WriteStateAsync(cancellationToken);
            }
            catch (InconsistentStateException conflict) when (conflict is not ProjectionSupersededException)
            {
                var mine = state.State;
                await state.ReadStateAsync(cancellationToken);
                state.State = mine;
                await state.WriteStateAsync(cancellationToken);
            }
        }
        catch (ProjectionSupersededException)
        {
            owner.DeactivateOnIdle();
            throw;
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
