using Orleans.Storage;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// Another activation of the grain wrote its state since this one read or wrote it. Orleans keeps
/// one activation per grain, but not while the cluster's membership changes: a grain's activation
/// on a stopping silo may still flush after a new one on another silo has loaded. The activation
/// that meets this must not write (it would overwrite what the other counted) and deactivates: what
/// it counted and did not persist is counted again by the next activation, from the streams and the
/// reconciliation, on top of what storage holds.
/// </summary>
[GenerateSerializer, Alias("orderflow.projection-superseded")]
public sealed class ProjectionSupersededException : InconsistentStateException
{
    public ProjectionSupersededException()
    {
    }

    public ProjectionSupersededException(string message) : base(message)
    {
    }

    public ProjectionSupersededException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
