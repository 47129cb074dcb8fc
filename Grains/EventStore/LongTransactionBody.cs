using Azure.Core.Pipeline;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Says of the entity-group transactions sent within <see cref="Scope"/> that their bodies are
/// long (the statistics' group commits, up to 4 MiB), so that the silo's table clients send them
/// as the SDK writes them without first trying to write them once into a buffer of
/// <see cref="MaxBufferedBytes"/> (<c>OrderFlow.Silo.TransactionBodyPolicy</c>). A long body nobody
/// marked is still found out, at the cost of an exception per transaction, which an operator sees
/// among the process's exceptions.
/// </summary>
public static class LongTransactionBody
{
    /// <summary>The longest body written once into a buffer: below the runtime's 85,000-byte large-object threshold, and above an append's (a few KiB).</summary>
    public const int MaxBufferedBytes = 64 * 1024;

    /// <summary>The pipeline message property that marks a long body (<see cref="Azure.Core.HttpMessage.TryGetProperty(string, out object?)"/>).</summary>
    public const string Property = "OrderFlow.LongTransactionBody";

    /// <summary>Marks the requests made within the scope (it flows with the async calls started in it).</summary>
    public static IDisposable Scope() =>
        HttpPipeline.CreateHttpMessagePropertiesScope(new Dictionary<string, object?> { [Property] = true });
}
