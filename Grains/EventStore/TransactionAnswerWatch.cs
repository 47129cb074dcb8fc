using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Tells <see cref="StorageErrors"/> whether storage answered any try of the transactions (an
/// append) sent within a <see cref="Scope"/>. The SDK's final failure carries only the tries that
/// threw: a try answered with a server error, which may have been applied, and retried leaves no
/// trace in it, so "500, then connection refused twice" would read as never sent. Added to every
/// table client of the silo after the retry policy, so that it sees each try.
/// </summary>
public sealed class TransactionAnswerWatch : HttpPipelinePolicy
{
    private const string Property = "OrderFlow.TransactionAnswered";

    /// <summary>Within the scope (it flows with the async calls started in it), a try of a transaction that storage answered sets <paramref name="answered"/>.</summary>
    internal static IDisposable Scope(StrongBox<bool> answered) =>
        HttpPipeline.CreateHttpMessagePropertiesScope(new Dictionary<string, object?> { [Property] = answered });

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            Note(message);
        }
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        try
        {
            await ProcessNextAsync(message, pipeline);
        }
        finally
        {
            Note(message);
        }
    }

    private static void Note(HttpMessage message)
    {
        if (message.HasResponse && EntityGroupTransactions.IsTransaction(message.Request.Uri.Path)
            && message.TryGetProperty(Property, out var watching) && watching is StrongBox<bool> answered)
        {
            answered.Value = true;
        }
    }
}
