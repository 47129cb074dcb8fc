namespace OrderFlow.Storage;

/// <summary>
/// The event log's storage could not be reached, or did not answer in time (network, throttling,
/// an outage). Raised within seconds instead of waiting for storage to come back, so callers can
/// answer 503 and retry later. <see cref="WriteOutcomeUnknown"/> tells the two cases apart: false
/// when nothing was written (storage refused the request, could not be reached before it went out,
/// or the operation only read); true when a write may have reached storage and may still land.
/// Either way, retrying with the same idempotency key (or payment or refund id) is safe: it is
/// applied at most once.
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

    public StorageUnavailableException(string message, Exception innerException, bool writeOutcomeUnknown) : base(message, innerException) =>
        WriteOutcomeUnknown = writeOutcomeUnknown;

    /// <summary>
    /// A write's request may have reached storage before the failure (a timeout, a connection lost
    /// mid-request, a server-side timeout): it may have been applied, or may still be. False means
    /// nothing was written.
    /// </summary>
    [Id(0)]
    public bool WriteOutcomeUnknown { get; private set; }
}
