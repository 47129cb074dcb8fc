using OrderFlow.Projections;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Projections.Generations;

/// <summary>What consumers and queries ask the projection control: which generations to feed and to read.</summary>
public interface IProjectionControl : IGrainWithIntegerKey
{
    /// <summary>The generations live events go to: the serving one (unless its layout is outdated), and the one being rebuilt, if any.</summary>
    Task<int[]> Targets();

    /// <summary>The generation that serves queries.</summary>
    /// <exception cref="StatisticsUnavailableException">None can: the stored one has an outdated layout (see <see cref="ProjectionSchema"/>).</exception>
    Task<int> Active();

    /// <summary>The generation that serves queries, or null when none can (see <see cref="Active"/>).</summary>
    Task<int?> Serving();

    /// <summary>Progress of a running rebuild.</summary>
    Task Progress(string id, long eventsProcessed);

    /// <summary>Ends a rebuild: on success its generation starts serving (also when it parked something); on failure the old one stays.</summary>
    Task Finish(string id, long eventsProcessed, string? error, long parked = 0);

    /// <summary>
    /// Asks for every projection to be re-derived from the log, without anyone starting a rebuild:
    /// they may count events the log no longer holds (storage lost writes) or be unable to go on
    /// (a day and its month out of step). Starts a rebuild saying <paramref name="reason"/>; if one
    /// is running, its scan may have read rows from before the loss, so another is queued to follow
    /// it (requests made while one is queued are folded into that one). Returns the rebuild that
    /// runs now.
    /// </summary>
    Task<RebuildStatus> RequestRepair(string reason);

    /// <summary>
    /// Starts the running rebuild's grain again (and a queued repair, if none runs) now rather than
    /// at the next <see cref="ProjectionControlGrain.RebuildWatch"/>: asked when a silo died, which
    /// may have taken the rebuild with it. Changes nothing for a rebuild that still runs.
    /// </summary>
    Task ResumeRebuild();
}
