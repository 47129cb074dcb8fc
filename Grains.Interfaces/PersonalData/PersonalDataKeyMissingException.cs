namespace OrderFlow.PersonalData;

/// <summary>
/// Personal data was stored under a subject's key, but the key table holds neither that key nor
/// the tombstone an erasure leaves: the key table lost rows (restored from an old backup, deleted
/// by hand). Not an erasure: an incident, to be fixed by restoring the key table.
/// </summary>
[GenerateSerializer, Alias("orderflow.personal-data-key-missing")]
public sealed class PersonalDataKeyMissingException : Exception
{
    public PersonalDataKeyMissingException()
    {
    }

    public PersonalDataKeyMissingException(string message) : base(message)
    {
    }

    public PersonalDataKeyMissingException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
