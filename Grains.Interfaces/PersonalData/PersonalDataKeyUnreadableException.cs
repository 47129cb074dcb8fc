namespace OrderFlow.PersonalData;

/// <summary>
/// A subject's key is stored wrapped under a key-encryption key that this deployment cannot use:
/// no key-encryption key is configured, the version the key was wrapped with is not available (a
/// Key Vault secret version deleted or disabled, a configured version removed), or the configured
/// key of that version is not the one the key was wrapped with. Not an erasure, and not a lost key
/// row: an incident of configuration, fixed by giving the deployment that key-encryption key again
/// (README "Personal data").
/// </summary>
[GenerateSerializer, Alias("orderflow.personal-data-key-unreadable")]
public sealed class PersonalDataKeyUnreadableException : Exception
{
    public PersonalDataKeyUnreadableException()
    {
    }

    public PersonalDataKeyUnreadableException(string message) : base(message)
    {
    }

    public PersonalDataKeyUnreadableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
