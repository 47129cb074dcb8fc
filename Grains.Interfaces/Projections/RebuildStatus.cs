namespace OrderFlow.Projections;

/// <summary>Where a projection rebuild is.</summary>
[GenerateSerializer, Alias("orderflow.rebuild-state")]
public enum RebuildState
{
    Running = 1,
    Completed,
    Failed,
}

/// <summary>GET /api/admin/projections/rebuild/{id}.</summary>
/// <param name="Generation">The projection generation the rebuild fills; it serves queries once completed.</param>
/// <param name="Parked">Orders (an event that cannot be read) and projection keys (a grain that kept failing) the rebuild parked instead of failing; see GET /api/admin/parked. They are retried and filled in by the reconciliation.</param>
/// <param name="Reason">Why the rebuild started by itself (storage lost writes, projections out of step); null when an operator started it.</param>
[GenerateSerializer, Immutable, Alias("orderflow.rebuild-status")]
public sealed record RebuildStatus(
    [property: Id(0)] string Id,
    [property: Id(1)] RebuildState State,
    [property: Id(2)] long EventsProcessed,
    [property: Id(3)] DateTimeOffset StartedAt,
    [property: Id(4)] DateTimeOffset? CompletedAt,
    [property: Id(5)] int Generation,
    [property: Id(6)] string? Error = null,
    [property: Id(7)] long Parked = 0)
{
    [Id(8)] public string? Reason { get; init; }
}
