using System.Net;
using Azure;
using OrderFlow.Storage;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Runs one event-log operation within a deadline and turns Azure SDK failures into exceptions
/// that mean something to its callers: the storage is unreachable or did not answer in time
/// (<see cref="StorageUnavailableException"/>, safe to retry later) or a write is too large
/// (<see cref="EventTooLargeException"/>). Anything else is a bug and propagates as it is.
/// </summary>
internal static class StorageErrors
{
    public static async Task<T> Translate<T>(string streamId, TimeSpan deadline, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        try
        {
            return await operation(timeout.Token);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new StorageUnavailableException(
                $"The event log did not answer within {deadline.TotalSeconds:0.#} s while working on stream '{streamId}'.", exception);
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

    public static Task Translate(string streamId, TimeSpan deadline, Func<CancellationToken, Task> operation, CancellationToken cancellationToken) =>
        Translate(streamId, deadline, async token => { await operation(token); return true; }, cancellationToken);

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
