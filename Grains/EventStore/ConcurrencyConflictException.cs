namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Another writer appended to the stream first: the expected version is no longer the last one.
/// Nothing of the failed append was written; reload the stream and decide again.
/// </summary>
public sealed class ConcurrencyConflictException(string streamId, int expectedVersion)
    : Exception($"Stream '{streamId}' is no longer at version {expectedVersion}: another writer appended first.")
{
    public string StreamId { get; } = streamId;

    public int ExpectedVersion { get; } = expectedVersion;
}
