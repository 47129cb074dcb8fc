using OrderFlow.Projections;

namespace OrderFlow.Grains.Statistics;

/// <summary>What consumers and queries ask the projection control: which generations to feed and to read.</summary>
public interface IProjectionControl : IGrainWithIntegerKey
{
    /// <summary>The generations live events go to: the serving one, and the one being rebuilt, if any.</summary>
    Task<int[]> Targets();

    /// <summary>The generation that serves queries.</summary>
    Task<int> Active();

    /// <summary>Progress of a running rebuild.</summary>
    Task Progress(string id, long eventsProcessed);

    /// <summary>Ends a rebuild: on success its generation starts serving; on failure the old one stays.</summary>
    Task Finish(string id, long eventsProcessed, string? error);
}

[GenerateSerializer, Alias("orderflow.projections-state")]
public sealed class ProjectionsState
{
    [Id(0)] public int ActiveGeneration { get; set; } = 1;

    /// <summary>The highest generation ever started; a new rebuild takes the next one, never reusing a failed one's.</summary>
    [Id(1)] public int LatestGeneration { get; set; } = 1;

    /// <summary>Rebuilds, newest last (the last <see cref="ProjectionControlGrain.KeptRebuilds"/>).</summary>
    [Id(2)] public List<RebuildStatus> Rebuilds { get; set; } = [];
}

/// <summary>
/// Switches projection generations. A rebuild fills generation N + 1 from the whole log while live
/// events keep flowing to both N (which keeps serving) and N + 1; every projection counts an event
/// once by (order id, version), so an event both scanned and delivered live is counted once. When
/// the scan has been projected, N + 1 serves; if the rebuild fails, N keeps serving.
/// </summary>
public sealed class ProjectionControlGrain(
    [PersistentState("projections", StatisticsOptions.StorageName)] IPersistentState<ProjectionsState> state,
    TimeProvider time) : Grain, IProjectionsGrain, IProjectionControl
{
    public const int KeptRebuilds = 20;

    public Task<int[]> Targets() =>
        Task.FromResult(Running() is { } running ? [state.State.ActiveGeneration, running.Generation] : new[] { state.State.ActiveGeneration });

    public Task<int> Active() => Task.FromResult(state.State.ActiveGeneration);

    public async Task<(RebuildStatus Status, bool AlreadyRunning)> StartRebuild()
    {
        if (Running() is { } running)
        {
            return (running, true);
        }

        var generation = ++state.State.LatestGeneration;
        var status = new RebuildStatus(Guid.CreateVersion7().ToString("N"), RebuildState.Running, 0, time.GetUtcNow(), null, generation);
        state.State.Rebuilds.Add(status);
        if (state.State.Rebuilds.Count > KeptRebuilds)
        {
            state.State.Rebuilds.RemoveAt(0);
        }

        // Live events go to the new generation from here on (Targets), before the scan starts.
        await state.WriteOwnStateAsync();
        await GrainFactory.GetGrain<IProjectionRebuildGrain>(status.Id).Start(generation);
        return (status, false);
    }

    public Task<RebuildStatus?> GetRebuild(string id) => Task.FromResult(state.State.Rebuilds.FirstOrDefault(r => r.Id == id));

    public Task Progress(string id, long eventsProcessed)
    {
        Update(id, r => r with { EventsProcessed = eventsProcessed });
        return Task.CompletedTask; // persisted with the next state write; progress is advisory
    }

    public async Task Finish(string id, long eventsProcessed, string? error)
    {
        var finished = Update(id, r => r with
        {
            State = error is null ? RebuildState.Completed : RebuildState.Failed,
            EventsProcessed = eventsProcessed,
            CompletedAt = time.GetUtcNow(),
            Error = error,
        });
        if (finished is { State: RebuildState.Completed })
        {
            state.State.ActiveGeneration = finished.Generation;
        }

        await state.WriteOwnStateAsync();
    }

    private RebuildStatus? Running() => state.State.Rebuilds.LastOrDefault(r => r.State == RebuildState.Running);

    private RebuildStatus? Update(string id, Func<RebuildStatus, RebuildStatus> change)
    {
        var index = state.State.Rebuilds.FindIndex(r => r.Id == id);
        if (index < 0)
        {
            return null;
        }

        return state.State.Rebuilds[index] = change(state.State.Rebuilds[index]);
    }
}
