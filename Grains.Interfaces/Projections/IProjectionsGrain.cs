namespace OrderFlow.Projections;

/// <summary>
/// Administers the statistics projections: which generation serves queries, and rebuilding a new
/// generation from the whole event log. Key: 0.
/// </summary>
[Alias("orderflow.projections")]
public interface IProjectionsGrain : IGrainWithIntegerKey
{
    /// <summary>Starts a rebuild, or returns the one already running (<c>AlreadyRunning</c> true).</summary>
    [Alias("start-rebuild")]
    Task<(RebuildStatus Status, bool AlreadyRunning)> StartRebuild();

    /// <summary>A rebuild's status, or null for an unknown id.</summary>
    [Alias("get-rebuild")]
    Task<RebuildStatus?> GetRebuild(string id);
}
