using OrderFlow.Grains.Projections.Feed;

namespace OrderFlow.Grains.Projections.Parking;

/// <summary>What one stream category's read-back and feed left to park and retry (<see cref="ParkedRetries.ParkAsync"/>).</summary>
/// <param name="Category">The streams' category: their change rows are announced again in it.</param>
/// <param name="Unreadable">Streams that could not be read back completely, and what to park for each.</param>
/// <param name="Projections">Projection grains that failed to count what they were sent of these streams.</param>
/// <param name="FromVersion">The version a stream is to be read again from.</param>
internal sealed record StreamFailures(
    string Category,
    IReadOnlyList<(string StreamId, ParkRequest Failure)> Unreadable,
    IReadOnlyCollection<ProjectionFailure> Projections,
    Func<string, int> FromVersion)
{
    /// <summary>Streams not (completely) counted: unreadable, or sent to a projection that failed.</summary>
    public HashSet<string> Streams =>
        [.. Unreadable.Select(u => u.StreamId).Concat(Projections.SelectMany(p => p.Streams.Keys))];
}
