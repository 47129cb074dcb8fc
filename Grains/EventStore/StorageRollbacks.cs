namespace OrderFlow.Grains.EventStore;

/// <summary>
/// How many times this silo has noticed storage lose writes (<see cref="StorageRollbackWatch"/>).
/// An order activation whose view was verified before the latest one stops trusting it and reads
/// the log before answering again, queries included.
/// </summary>
public sealed class StorageRollbacks
{
    private long count;

    public long Count => Interlocked.Read(ref count);

    public void Noticed() => Interlocked.Increment(ref count);
}
