namespace OrderFlow.Grains.PersonalData;

/// <summary>A subject's row in the key table: their key, or (after an erasure) a tombstone with no key.</summary>
public sealed record SubjectKeyRecord(byte[]? Key, DateTimeOffset? ErasedAt)
{
    public bool IsErased => Key is null;
}
