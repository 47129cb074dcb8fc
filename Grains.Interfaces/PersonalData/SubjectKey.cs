namespace OrderFlow.PersonalData;

/// <summary>One of a data subject's keys and the id that every value sealed with it names.</summary>
/// <param name="Id">The key's id: <see cref="LegacyId"/> for the one key of a subject from before key ids.</param>
[GenerateSerializer, Immutable, Alias("orderflow.subject-key")]
public sealed record SubjectKey([property: Id(0)] string Id, [property: Id(1)] byte[] Material)
{
    /// <summary>The id of the key that sealed values written before key ids (<c>pd1</c> values): the subject's single row of that time.</summary>
    public const string LegacyId = "key";
}
