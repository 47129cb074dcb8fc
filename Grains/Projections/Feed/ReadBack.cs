using OrderFlow.Grains.Projections.Parking;

namespace OrderFlow.Grains.Projections.Feed;

/// <summary>
/// A stream's events read back from the log as envelopes, as far as they can be read
/// (<see cref="StreamReadBack"/>): the envelopes before the first event that cannot be (a corrupt
/// row), and that failure, to be parked (<see cref="ParkedRecordsGrain"/>) instead of failing the
/// whole reconciliation or rebuild.
/// </summary>
/// <param name="Failure">Null when every event was read; otherwise what to park.</param>
public sealed record ReadBack<TEnvelope>(string StreamId, List<TEnvelope> Envelopes, ParkRequest? Failure);
