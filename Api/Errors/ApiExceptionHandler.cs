using Microsoft.AspNetCore.Diagnostics;
using OrderFlow.Api.Operations;
using OrderFlow.PersonalData;
using OrderFlow.Statistics;
using OrderFlow.Storage;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Turns exceptions into problem documents. Storage or cluster trouble is a 503 with Retry-After,
/// saying whether anything may have been written: nothing was (<c>storage-unavailable</c>, and
/// <c>cluster-unavailable</c> for a query), or a write may have been applied (<c>outcome-unknown</c>:
/// retry with the same Idempotency-Key). A request the framework could not read is a 4xx;
/// a personal-data key lost from the key table, or wrapped under a key-encryption key this
/// deployment lacks, is a 500 of its own (an incident, not a bug);
/// anything else is a 500 and a bug, logged with its trace id.
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>How long clients are asked to wait before retrying after a 503.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case StorageUnavailableException { WriteOutcomeUnknown: true }:
                logger.LogWarning(exception, "Outcome unknown for {Method} {Path}: storage stopped answering during the append", context.Request.Method, context.Request.Path);
                await WriteUnavailableAsync(context, OutcomeUnknown);
                return true;
            case StorageUnavailableException:
                logger.LogWarning(exception, "Storage unavailable for {Method} {Path}", context.Request.Method, context.Request.Path);
                await WriteUnavailableAsync(context, StorageUnavailable);
                return true;
            case StatisticsUnavailableException:
                logger.LogWarning("Statistics unavailable for {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path, exception.Message);
                await WriteUnavailableAsync(context, new(StatusCodes.Status503ServiceUnavailable, "Statistics unavailable", exception.Message, "statistics-unavailable"));
                return true;
            case var _ when Unavailability.CauseOf(exception) is not UnavailableCause.None and var cause:
                logger.LogWarning(exception, "{Cause} unavailable for {Method} {Path}", cause, context.Request.Method, context.Request.Path);
                // A query writes nothing. A command stopped by the cluster, or by storage other than
                // the event log's own (which says what it knows), may have been applied.
                await WriteUnavailableAsync(context, !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                    ? OutcomeUnknown
                    : cause == UnavailableCause.Storage ? StorageUnavailableForQuery : ClusterUnavailableForQuery);
                return true;
            case PersonalDataKeyMissingException:
                // Not an erasure (that leaves a tombstone): the key table lost rows. Loud, and not worth retrying.
                logger.LogCritical(exception, "Personal data key missing for {Method} {Path}: restore the key table from backup", context.Request.Method, context.Request.Path);
                // The details (subject, key id, table) go to the log, not to the caller.
                await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, "Personal data key missing",
                    "A key that personal data here was sealed with is missing from the key table, and no erasure is recorded: the key table lost rows and must be restored from backup (the log says which, under this answer's traceId). This is not an erasure: an erased subject's data reads as erased, with no error.",
                    "personal-data-key-missing");
                return true;
            case PersonalDataKeyUnreadableException:
                // Not an erasure either: the key is stored, wrapped under a key-encryption key this deployment lacks.
                logger.LogCritical(exception, "Personal data key unreadable for {Method} {Path}: configure the key-encryption key it was wrapped with", context.Request.Method, context.Request.Path);
                // The details (key-encryption key versions, the vault and its secret) go to the log, not to the caller.
                await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, "Personal data key unreadable",
                    "The key of this data subject is stored wrapped with a key-encryption key this deployment cannot use (the log says which, under this answer's traceId). This is not an erasure: personal data of this subject is neither shown nor stored until that key-encryption key is configured again.",
                    "personal-data-key-unreadable");
                return true;
            case BadHttpRequestException badRequest:
                await BadRequestProblems.WriteAsync(context, badRequest);
                return true;
            case var _ when context.Request.Path.StartsWithSegments(OperationsApi.DashboardPath) && exception.GetBaseException() is FormatException unreadable:
                // The dashboard (a library) parses silo addresses from its paths and lets a malformed one throw.
                logger.LogWarning(exception, "The dashboard could not read {Path}", context.Request.Path);
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "Bad request", "The dashboard could not read its request: " + unreadable.Message, "bad-request");
                return true;
            default:
                logger.LogError(exception, "Unhandled exception for {Method} {Path}", context.Request.Method, context.Request.Path);
                await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, "Internal error",
                    "An unexpected error occurred (the log holds it, under this answer's traceId). This is a bug.", "internal");
                return true;
        }
    }

    private sealed record Unavailable(int Status, string Title, string Detail, string Kind);

    private static readonly Unavailable StorageUnavailable = new(StatusCodes.Status503ServiceUnavailable, "Storage unavailable",
        "Storage could not be reached or refused the request, and nothing was written. Retry later.", "storage-unavailable");

    private static readonly Unavailable OutcomeUnknown = new(StatusCodes.Status503ServiceUnavailable, "Outcome unknown",
        "This request may have been applied: storage or the cluster stopped answering while its write was on its way, and it may still take effect. " +
        "Retry with the same Idempotency-Key (or the same payment or refund id): it is applied at most once, and the retry's answer tells the outcome.",
        "outcome-unknown");

    private static readonly Unavailable StorageUnavailableForQuery = StorageUnavailable with
    {
        Detail = "Storage did not answer this query in time. Nothing was written (a query writes nothing). Retry later.",
    };

    private static readonly Unavailable ClusterUnavailableForQuery = new(StatusCodes.Status503ServiceUnavailable, "Service unavailable",
        "The cluster did not answer in time. Nothing was written (a query writes nothing). Retry later.", "cluster-unavailable");

    private static async Task WriteUnavailableAsync(HttpContext context, Unavailable problem)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Problems.WriteAsync(context, problem.Status, problem.Title, problem.Detail, problem.Kind);
    }
}
