namespace OrderFlow.Storage;

/// <summary>
/// The event log's storage could not be reached, or did not answer in time (network, throttling,
/// an outage). Raised within seconds instead of waiting for storage to come back, so callers can
/// answer 503 and retry later. When raised by a command whose storage refused or failed the
/// request, nothing was written; when storage stopped answering while the append was on its way,
/// the append may still land. Either way, retrying with the same idempotency key (or payment or
/// refund id) is safe: it is applied at most once.
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
