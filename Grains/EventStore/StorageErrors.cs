using System.Net;
using Azure;
using OrderFlow.Storage;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Turns Azure SDK failures into exceptions that mean something to the event log's callers:
/// the storage is unreachable (<see cref="StorageUnavailableException"/>, safe to retry later)
/// or a write is too large (<see cref="EventTooLargeException"/>). Anything else is a bug and
/// propagates as it is.
/// </summary>
internal static class StorageErrors
{
    public static async Task<T> Translate<T>(string streamId, Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation();
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsUnavailable(exception))
        {
            throw new StorageUnavailableException(
                $"The event log could not be reached while working on stream '{streamId}': {Describe(exception)}", exception);
        }
        catch (RequestFailedException exception) when (IsTooLarge(exception))
        {
            throw new EventTooLargeException(streamId, -1, TableLimits.MaxEntityBytes);
        }
    }

    public static Task Translate(string streamId, Func<Task> operation, CancellationToken cancellationToken) =>
        Translate(streamId, async () => { await operation(); return true; }, cancellationToken);

    private static bool IsUnavailable(Exception exception) => exception switch
    {
        RequestFailedException failed => failed.Status is 0 or (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsUnavailable),
        HttpRequestException or TimeoutException or OperationCanceledException or IOException => true,
        _ => false,
    };

    private static bool IsTooLarge(RequestFailedException exception) =>
        exception.Status == (int)HttpStatusCode.RequestEntityTooLarge
        || exception.ErrorCode is "EntityTooLarge" or "RequestBodyTooLarge" or "PropertyValueTooLarge";

    private static string Describe(Exception exception) =>
        exception is AggregateException { InnerExceptions.Count: > 0 } aggregate
            ? aggregate.InnerExceptions[^1].Message
            : exception.Message;
}
