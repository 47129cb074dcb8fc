namespace OrderFlow.Grains.Projections.Feed;

/// <summary>A projection grain that failed to count and persist what it was sent, and the streams it was sent (to retry them from the log).</summary>
/// <param name="Key">The grain id, as parked (<see cref="ProjectionFeed{TEnvelope}.KeyOf"/>).</param>
/// <param name="Streams">Stream id (of the feed's category) → the lowest version the grain was sent of it.</param>
public sealed record ProjectionFailure(string Key, Exception Error, Dictionary<string, int> Streams);
