using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;
using OrderFlow.Statistics;
using OrderFlow.Storage;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Turns exceptions into problem documents. Storage or cluster trouble is a 503 with Retry-After
/// (nothing was written); a request the framework could not read is a 4xx; anything else is a 500
/// and a bug, logged with its trace id.
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>How long clients are asked to wait before retrying after a 503.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case StorageUnavailableException:
                logger.LogWarning(exception, "Storage unavailable for {Method} {Path}", context.Request.Method, context.Request.Path);
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Storage unavailable",
                    "The event store cannot be reached right now. Retry later; with the same Idempotency-Key a retry is applied at most once.", "storage-unavailable");
                return true;
            case StatisticsUnavailableException:
                logger.LogWarning("Statistics unavailable for {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path, exception.Message);
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Statistics unavailable", exception.Message, "statistics-unavailable");
                return true;
            case TimeoutException or SiloUnavailableException or OrleansMessageRejectionException:
                logger.LogWarning(exception, "Cluster unavailable for {Method} {Path}", context.Request.Method, context.Request.Path);
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                    "The cluster did not answer in time. If the request had an Idempotency-Key, retrying it is safe.", "cluster-unavailable");
                return true;
            case BadHttpRequestException badRequest:
                await BadRequestProblems.WriteAsync(context, badRequest);
                return true;
            default:
                logger.LogError(exception, "Unhandled exception for {Method} {Path}", context.Request.Method, context.Request.Path);
                await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, "Internal error",
                    $"An unexpected error occurred (trace id {context.TraceIdentifier}). This is a bug.", "internal");
                return true;
        }
    }
}
