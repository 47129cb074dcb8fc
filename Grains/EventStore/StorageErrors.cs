using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Identity;
using OrderFlow.Storage;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Runs one operation of the event log (or of another store, <see cref="StoreDescription"/>) within a deadline and turns Azure SDK failures into exceptions
/// that mean something to its callers: the storage is unreachable or did not answer in time
/// (<see cref="StorageUnavailableException"/>, safe to retry later) or a write is too large
/// (<see cref="EventTooLargeException"/>). Anything else is a bug and propagates as it is.
/// </summary>
/// <remarks>
/// A failed write (<see cref="TranslateWrite{T}"/>) is told apart further: if its request may have
/// reached storage (a timeout, a connection lost mid-request, a server-side timeout, or any attempt
/// of a retry sequence that ended so), its outcome is unknown: it may have been applied, or may
/// still be. Only a request that never left (connection refused, name not resolved), or a retry
/// sequence every attempt of which was refused so, is known to have written nothing: a final
/// "busy" or "throttled" answer may follow an attempt that timed out, and an attempt answered
/// with an error and retried leaves no trace in the final failure (<see cref="TransactionAnswerWatch"/> saw it).
/// </remarks>
internal static class StorageErrors
{
    /// <summary>An operation of the event log whose failure writes nothing (a read, or a write that is harmless to repeat and not the outcome of a command).</summary>
    public static Task<T> Translate<T>(string streamId, TimeSpan deadline, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken) =>
        RunAsync(StoreDescription.EventLog, streamId, deadline, operation, isWrite: false, cancellationToken);

    /// <inheritdoc cref="Translate{T}(string, TimeSpan, Func{CancellationToken, Task{T}}, CancellationToken)"/>
    public static Task Translate(string streamId, TimeSpan deadline, Func<CancellationToken, Task> operation, CancellationToken cancellationToken) =>
        Translate(StoreDescription.EventLog, streamId, deadline, operation, cancellationToken);

    /// <summary>An operation of <paramref name="store"/> whose failure writes nothing; the failure names the store and the <paramref name="id"/> worked on.</summary>
    public static Task<T> Translate<T>(StoreDescription store, string id, TimeSpan deadline, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken) =>
        RunAsync(store, id, deadline, operation, isWrite: false, cancellationToken);

    /// <inheritdoc cref="Translate{T}(StoreDescription, string, TimeSpan, Func{CancellationToken, Task{T}}, CancellationToken)"/>
    public static Task Translate(StoreDescription store, string id, TimeSpan deadline, Func<CancellationToken, Task> operation, CancellationToken cancellationToken) =>
        RunAsync(store, id, deadline, async token => { await operation(token); return true; }, isWrite: false, cancellationToken);

    /// <summary>A write to the event log whose outcome is a command's: its failure says whether the write may have reached storage.</summary>
    public static Task<T> TranslateWrite<T>(string streamId, TimeSpan deadline, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken) =>
        RunAsync(StoreDescription.EventLog, streamId, deadline, operation, isWrite: true, cancellationToken);

    /// <summary>Whether a storage failure of a write leaves its outcome unknown (see the remarks on the class).</summary>
    internal static bool MayHaveReachedStorage(Exception exception) => exception switch
    {
        RequestFailedException { Status: 0, InnerException: { } inner } => MayHaveReachedStorage(inner),
        RequestFailedException { Status: 0 } => true,
        // A refusal of the identity is not retried: it ends a sequence whose earlier tries, if any,
        // the silo's clients note (TransactionAnswerWatch).
        RequestFailedException { Status: var status } when StorageStatus.RefusesIdentity(status) => false,
        // Even a refusal (503 busy, 429 throttled) may end a retry sequence whose earlier attempt
        // timed out after reaching storage: the SDK returns the last answer and drops the earlier
        // attempts' errors. Only failures that carry every attempt (below) can say more.
        RequestFailedException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count == 0 || aggregate.InnerExceptions.Any(MayHaveReachedStorage),
        HttpRequestException request => !NeverSent(request),
        AuthenticationFailedException => false, // no token for the silo's identity: nothing was sent
        _ => true,
    };

    private static async Task<T> RunAsync<T>(StoreDescription store, string id, TimeSpan deadline, Func<CancellationToken, Task<T>> operation, bool isWrite, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        var transactionAnswered = isWrite ? new StrongBox<bool>() : null;
        using var watch = transactionAnswered is null ? null : TransactionAnswerWatch.Scope(transactionAnswered);
        try
        {
            return await operation(timeout.Token);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            // Whatever was on the wire when the deadline struck may still be applied.
            throw new StorageUnavailableException(
                $"{store.Name} did not answer within {deadline.TotalSeconds:0.#} s while working on {store.ItemKind} '{id}'.", exception, writeOutcomeUnknown: isWrite);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsUnavailable(exception))
        {
            throw new StorageUnavailableException(
                $"{store.Name} could not be reached while working on {store.ItemKind} '{id}': {Describe(exception)}", exception,
                writeOutcomeUnknown: isWrite && (transactionAnswered is { Value: true } || MayHaveReachedStorage(exception)));
        }
        catch (RequestFailedException exception) when (exception is { Status: (int)HttpStatusCode.NotFound, ErrorCode: "TableNotFound" })
        {
            // The table was deleted under a running store (it was there when the store first used it).
            // Not re-created here: an empty log in its place would silently start every stream anew.
            throw new StorageUnavailableException(
                $"{store.Table} does not exist any more (deleted, or storage restored without it) while working on {store.ItemKind} '{id}'; nothing was written. {store.WhenTableMissing}",
                exception, writeOutcomeUnknown: false);
        }
        catch (RequestFailedException exception) when (IsTooLarge(exception))
        {
            throw new EventTooLargeException(id, -1, TableLimits.MaxEntityBytes);
        }
    }

    private static bool IsUnavailable(Exception exception) => exception switch
    {
        RequestFailedException failed => StorageStatus.MeansUnavailable(failed.Status),
        AggregateException aggregate => aggregate.InnerExceptions.All(IsUnavailable),
        HttpRequestException or TimeoutException or OperationCanceledException or IOException => true,
        // The identity endpoint not answering (a replica starting): storage is out of reach as surely.
        AuthenticationFailedException => true,
        _ => false,
    };

    /// <summary>The connection was never established, so no byte of the request reached storage.</summary>
    private static bool NeverSent(HttpRequestException exception) =>
        exception.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError
        || exception.InnerException is SocketException
        {
            SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TryAgain or SocketError.NoData,
        };

    private static bool IsTooLarge(RequestFailedException exception) =>
        exception.Status == (int)HttpStatusCode.RequestEntityTooLarge
        || exception.ErrorCode is "EntityTooLarge" or "RequestBodyTooLarge" or "PropertyValueTooLarge";

    private static string Describe(Exception exception) =>
        exception is AggregateException { InnerExceptions.Count: > 0 } aggregate
            ? aggregate.InnerExceptions[^1].Message
            : exception.Message;
}
