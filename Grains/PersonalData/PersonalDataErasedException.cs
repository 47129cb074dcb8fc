namespace OrderFlow.Grains.PersonalData;

/// <summary>New personal data of a subject whose personal data was erased: it is not stored (no new key is made for an erased subject).</summary>
public sealed class PersonalDataErasedException(string subjectId)
    : Exception($"The personal data of '{subjectId}' was erased: no new personal data is stored for them.")
{
    public string SubjectId { get; } = subjectId;
}
