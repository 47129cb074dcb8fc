namespace OrderFlow.Storage;

/// <summary>
/// The event log's storage could not be reached (network, throttling, an outage). Raised quickly
/// instead of waiting for storage to come back, so callers can answer 503 and retry later.
/// When raised by a command, nothing was written.
/// </summary>
[GenerateSerializer, Alias("orderflow.storage-unavailable")]
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException()
    {
    }

    public StorageUnavailableException(string message) : base(message)
    {
    }

    public StorageUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
