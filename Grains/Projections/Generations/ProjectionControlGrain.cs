using Microsoft.Extensions.Logging;
using OrderFlow.Grains.Projections.Rebuild;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Grains.Statistics;
using OrderFlow.Projections;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Projections.Generations;

/// <summary>
/// Switches projection generations. A rebuild fills generation N + 1 from the whole log while live
/// events keep flowing to both N (which keeps serving) and N + 1; every projection counts an event
/// once by (order id, version), so an event both scanned and delivered live is counted once. When
/// the scan has been projected, N + 1 serves; if the rebuild fails, N keeps serving.
/// </summary>
/// <remarks>
/// When the active generation was written in a layout other than this build's
/// <see cref="ProjectionSchema.Current"/> (an older one: an upgrade; a newer one: a deployment
/// rolled back past a layout change), nothing reads or feeds it any more: the
/// first activation starts a rebuild, and queries are refused with a
/// <see cref="StatisticsUnavailableException"/> until it completes. Every projection grain is
/// reached through this grain first (consumers ask for <see cref="Targets"/>, queries for
/// <see cref="Active"/>), so its first activation in a new deployment comes before any
/// projection state is written, and records that the state is of the current layout.
/// </remarks>
[GrainType("projectioncontrol")] // the name Orleans derived from the class before it was pinned: its stored record is keyed by it
public sealed class ProjectionControlGrain(
    [PersistentState("projections", StatisticsOptions.StorageName)] IPersistentState<ProjectionsState> state,
    TimeProvider time,
    ILogger<ProjectionControlGrain> logger) : Grain, IProjectionsGrain, IProjectionControl
{
    public const int KeptRebuilds = 20;

    /// <summary>How often a rebuild recorded as running is started again, in case its grain went away with its silo (starting a running one changes nothing).</summary>
    public static readonly TimeSpan RebuildWatch = TimeSpan.FromMinutes(1);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists)
        {
            // Statistics months without a control record: an earlier build's state (it recorded
            // the control only on a rebuild). None: a new deployment.
            var earlier = (await GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(state.State.ActiveGeneration)).Months()).Count > 0;
            state.State.ActiveSchema = earlier ? ProjectionSchema.Unversioned : ProjectionSchema.Current;
            await state.WriteOwnStateAsync(this, cancellationToken);
        }
        else if (state.State.ActiveSchema == 0)
        {
            state.State.ActiveSchema = ProjectionSchema.Unversioned;
        }

        this.RegisterGrainTimer(_ => KeepRebuildRunningAsync(), RebuildWatch, RebuildWatch);
        if (Running() is not null)
        {
            await KeepRebuildRunningAsync();
        }
        else if (Outdated)
        {
            logger.LogWarning(
                "Projection generation {Generation} is stored in layout {Schema}; this build reads layout {Current}. Statistics are rebuilt from the event log and unavailable until then.",
                state.State.ActiveGeneration, state.State.ActiveSchema, ProjectionSchema.Current);
            await BeginRebuildAsync($"Statistics were stored in layout {state.State.ActiveSchema}; this build reads layout {ProjectionSchema.Current}.");
        }
    }

    /// <summary>
    /// A rebuild runs in its grain's memory: if its silo went away, or it ended without reporting,
    /// it starts over (what it had projected is skipped as already counted); if it still runs,
    /// this changes nothing. Otherwise it would stay "running" for good, refusing later rebuilds.
    /// </summary>
    private async Task KeepRebuildRunningAsync()
    {
        if (Running() is not { } running)
        {
            await StartQueuedRepairAsync(); // its start failed, or the silo died between the end of the last rebuild and its start
            return;
        }

        try
        {
            await GrainFactory.GetGrain<IProjectionRebuildGrain>(running.Id).Start(running.Generation);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not start projection rebuild {Id} again; retrying in {Interval}.", running.Id, RebuildWatch);
        }
    }

    public Task ResumeRebuild() => KeepRebuildRunningAsync();

    /// <summary>The active generation cannot be read by this build: stored in an older layout, or in a later build's (this build would read rows where that layout keeps none, and write its own beside them).</summary>
    private bool Outdated => state.State.ActiveSchema != ProjectionSchema.Current;

    public Task<int[]> Targets() =>
        Task.FromResult<int[]>([.. (Outdated ? [] : new[] { state.State.ActiveGeneration }).Concat(Running() is { } running ? [running.Generation] : [])]);

    public Task<int> Active()
    {
        if (!Outdated)
        {
            return Task.FromResult(state.State.ActiveGeneration);
        }

        throw new StatisticsUnavailableException(UnavailableReason(state.State, ProjectionSchema.Current));
    }

    /// <summary>Why statistics stored in <paramref name="state"/>'s layout cannot be served by a build that reads <paramref name="currentSchema"/>.</summary>
    internal static string UnavailableReason(ProjectionsState state, int currentSchema)
    {
        // An older layout is what an upgrade finds; a later one, what a rollback to an earlier build finds.
        var change = state.ActiveSchema < currentSchema ? "an upgrade" : "a rollback to an earlier build";
        var last = state.Rebuilds.LastOrDefault();
        return last switch
        {
            { State: RebuildState.Running } => $"Statistics are being rebuilt from the event log after {change} changed how they are stored: rebuild {last.Id}, {last.EventsProcessed} events so far.",
            { State: RebuildState.Failed } => $"The rebuild that recomputes statistics after {change} changed how they are stored failed (rebuild {last.Id}: {last.Error}). Start another with POST /api/admin/projections/rebuild.",
            _ => $"Statistics are stored in a layout this build does not read ({change} changed it). Start a rebuild with POST /api/admin/projections/rebuild.",
        };
    }

    public Task<int?> Serving() => Task.FromResult(Outdated ? null : (int?)state.State.ActiveGeneration);

    public async Task<(RebuildStatus Status, bool AlreadyRunning)> StartRebuild()
    {
        if (Running() is { } running)
        {
            return (running, true);
        }

        return (await BeginRebuildAsync(reason: null), false);
    }

    public async Task<RebuildStatus> RequestRepair(string reason)
    {
        if (Running() is { } running)
        {
            if (state.State.QueuedRepair is null)
            {
                state.State.QueuedRepair = reason;
                await PersistAsync();
                logger.LogWarning("Projections will be re-derived from the event log once rebuild {Id} ends: {Reason}", running.Id, reason);
            }

            return running;
        }

        logger.LogWarning("Projections are re-derived from the event log: {Reason}", reason);
        return await BeginRebuildAsync(reason);
    }

    private async Task StartQueuedRepairAsync()
    {
        if (state.State.QueuedRepair is { } reason && Running() is null)
        {
            try
            {
                await BeginRebuildAsync(reason);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Could not start the queued projection repair; retrying in {Interval}. Reason: {Reason}", RebuildWatch, reason);
            }
        }
    }

    /// <param name="reason">Why the rebuild started by itself; null when an operator asked for it.</param>
    private async Task<RebuildStatus> BeginRebuildAsync(string? reason)
    {
        state.State.QueuedRepair = null; // this rebuild's scan starts after the request: it serves it
        var generation = ++state.State.LatestGeneration;
        var status = new RebuildStatus(Guid.CreateVersion7().ToString("N"), RebuildState.Running, 0, time.GetUtcNow(), null, generation)
        {
            Reason = reason,
        };
        state.State.Rebuilds.Add(status);
        if (state.State.Rebuilds.Count > KeptRebuilds)
        {
            state.State.Rebuilds.RemoveAt(0);
        }

        // Live events go to the new generation from here on (Targets), before the scan starts.
        await PersistAsync();
        await GrainFactory.GetGrain<IProjectionRebuildGrain>(status.Id).Start(generation);
        return status;
    }

    public Task<RebuildStatus?> GetRebuild(string id) => Task.FromResult(state.State.Rebuilds.FirstOrDefault(r => r.Id == id));

    public Task Progress(string id, long eventsProcessed)
    {
        UpdateRunning(id, r => r with { EventsProcessed = eventsProcessed });
        return Task.CompletedTask; // persisted with the next state write; progress is advisory
    }

    /// <remarks>
    /// Only a running rebuild finishes: a repeated report (its answer was lost, or a copy of the
    /// rebuild started again reports too) changes nothing, so a stale success cannot switch back
    /// to an older generation and a failure reported after a success cannot mark it failed.
    /// </remarks>
    public async Task Finish(string id, long eventsProcessed, string? error, long parked = 0)
    {
        var finished = UpdateRunning(id, r => r with
        {
            State = error is null ? RebuildState.Completed : RebuildState.Failed,
            EventsProcessed = eventsProcessed,
            CompletedAt = time.GetUtcNow(),
            Error = error,
            Parked = parked,
        });
        if (finished is null)
        {
            return;
        }

        if (finished.State == RebuildState.Completed)
        {
            state.State.ActiveGeneration = finished.Generation;
            state.State.ActiveSchema = ProjectionSchema.Current;
        }

        await PersistAsync();
        await StartQueuedRepairAsync();
    }

    /// <summary>A write after which, should it fail, the retry meets what storage holds (a queued repair, answered as queued, was lost with the activation).</summary>
    private Task PersistAsync() => OwnStateWrites.DeactivatingOnFailureAsync(() => state.WriteOwnStateAsync(this), DeactivateOnIdle);

    private RebuildStatus? Running() => state.State.Rebuilds.LastOrDefault(r => r.State == RebuildState.Running);

    /// <summary>Changes the rebuild <paramref name="id"/> if it is running; null (and no change) otherwise.</summary>
    private RebuildStatus? UpdateRunning(string id, Func<RebuildStatus, RebuildStatus> change)
    {
        var index = state.State.Rebuilds.FindIndex(r => r.Id == id && r.State == RebuildState.Running);
        if (index < 0)
        {
            return null;
        }

        return state.State.Rebuilds[index] = change(state.State.Rebuilds[index]);
    }
}
