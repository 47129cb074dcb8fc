using OrderFlow.Grains.Projections.Parking;

namespace OrderFlow.Grains.Projections.Feed;

/// <summary>
/// A stream's events read back from the log as envelopes, as far as they can be read
/// (<see cref="StreamReadBack"/>): the envelopes before the first event that cannot be (a corrupt
/// row), and that failure, to be parked (<see cref="ParkedRecordsGrain"/>) instead of failing the
/// whole reconciliation or rebuild.
/// </summary>
/// <param name="Failure">Null when every event was read; otherwise what to park.</param>
/// <param name="Next">
/// Reads the page that follows, when this one was full (<see cref="StreamReadBack.PageEvents"/>):
/// a long stream is read page by page, each its own storage call.
/// </param>
public sealed record ReadBack<TEnvelope>(string StreamId, List<TEnvelope> Envelopes, ParkRequest? Failure, Func<Task<ReadBack<TEnvelope>>>? Next = null)
{
    /// <summary>The <see cref="Failure"/> is storage not answering the stream's reads (not the stream's own fault, perhaps a passing blip).</summary>
    public bool StorageDidNotAnswer { get; init; }
}
