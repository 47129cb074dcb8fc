using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// What the key table holds for one subject: their keys by id and the one new data is sealed with
/// (<see cref="Current"/>), or, once erased, a tombstone and no key (a tombstone is final: keys
/// found beside it are ignored).
/// </summary>
public sealed record SubjectKeys(IReadOnlyDictionary<string, byte[]> ById, string? CurrentId, DateTimeOffset? ErasedAt)
{
    public static SubjectKeys Erased(DateTimeOffset erasedAt) => new(new Dictionary<string, byte[]>(), null, erasedAt);

    public bool IsErased => ErasedAt is not null;

    /// <summary>The key new personal data is sealed with; null when erased or when no key with an id was made yet.</summary>
    public SubjectKey? Current => CurrentId is { } id && !IsErased ? new SubjectKey(id, ById[id]) : null;
}
