namespace OrderFlow.Grains.Projections.Feed;

/// <summary>A projection grain that failed to count and persist what it was sent, and the orders it was sent (to retry them from the log).</summary>
/// <param name="Key">The grain id, as parked (<see cref="ProjectionFeed.KeyOf"/>).</param>
/// <param name="Orders">Order id → the lowest version the grain was sent of it.</param>
public sealed record ProjectionFailure(string Key, Exception Error, Dictionary<string, int> Orders);
