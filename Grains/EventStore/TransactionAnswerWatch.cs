using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Tells <see cref="StorageErrors"/> whether any try of the transactions (an append) sent within a
/// <see cref="Scope"/> may have reached storage: answered (but for a refusal of the silo's
/// identity, 401 / 403, which storage answers before it processes anything), or failed in a way
/// that may have sent it. The SDK's final failure does not carry every try: a try answered with a
/// server error, which may have been applied, and retried leaves no trace in it ("500, then
/// connection refused twice" would read as never sent), nor does a try that timed out before a
/// final answer. Added to every table client of the silo after the retry policy, so that it sees each try.
/// </summary>
public sealed class TransactionAnswerWatch : HttpPipelinePolicy
{
    private const string Property = "OrderFlow.TransactionAnswered";

    /// <summary>Within the scope (it flows with the async calls started in it), a try of a transaction that storage answered sets <paramref name="answered"/>.</summary>
    internal static IDisposable Scope(StrongBox<bool> answered) =>
        HttpPipeline.CreateHttpMessagePropertiesScope(new Dictionary<string, object?> { [Property] = answered });

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (Watching(message) is not { } reached)
        {
            ProcessNext(message, pipeline);
            return;
        }

        try
        {
            ProcessNext(message, pipeline);
        }
        catch (Exception failure)
        {
            Note(message, failure, reached);
            throw;
        }

        Note(message, failure: null, reached);
    }

    // Every request of the silo's table clients passes here: those nobody watches go on untouched.
    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        Watching(message) is { } reached ? WatchAsync(message, pipeline, reached) : ProcessNextAsync(message, pipeline);

    private static async ValueTask WatchAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, StrongBox<bool> reached)
    {
        try
        {
            await ProcessNextAsync(message, pipeline);
        }
        catch (Exception failure)
        {
            Note(message, failure, reached);
            throw;
        }

        Note(message, failure: null, reached);
    }

    /// <summary>The flag of the scope a transaction's try was sent in; none for other requests and outside a scope.</summary>
    private static StrongBox<bool>? Watching(HttpMessage message) =>
        message.TryGetProperty(Property, out var watching) && watching is StrongBox<bool> reached && EntityGroupTransactions.IsTransaction(message.Request.Uri.Path)
            ? reached
            : null;

    private static void Note(HttpMessage message, Exception? failure, StrongBox<bool> reached)
    {
        var mayHaveReached = failure is not null
            ? StorageErrors.MayHaveReachedStorage(failure)
            : message.HasResponse && !StorageStatus.RefusesIdentity(message.Response.Status);
        if (mayHaveReached)
        {
            reached.Value = true;
        }
    }
}
