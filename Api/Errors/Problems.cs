using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Mvc;
using OrderFlow.Orders;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Every error this API answers is an RFC 9457 problem document built here. Its <c>type</c> is a
/// relative URI naming the kind of problem (<c>/problems/invalid-transition</c>), stable for clients.
/// </summary>
public static class Problems
{
    public static string Type(string kind) => "/problems/" + kind;

    /// <summary>The problem for a command refused by an aggregate (<paramref name="aggregate"/>: "order", "customer"; it names it in titles).</summary>
    public static IResult From(CommandError error, string aggregate = "order") => error.Code switch
    {
        CommandErrorCode.Validation => Validation(error.Errors ?? new Dictionary<string, string[]>(), error.Detail),
        CommandErrorCode.NotFound => Problem(StatusCodes.Status404NotFound, "Not found", error.Detail, "not-found"),
        CommandErrorCode.AlreadyExists => Problem(StatusCodes.Status409Conflict,
            char.ToUpperInvariant(aggregate[0]) + aggregate[1..] + " already exists", error.Detail, "already-exists"),
        CommandErrorCode.InvalidTransition => Problem(StatusCodes.Status409Conflict, "Not allowed in this status", error.Detail, "invalid-transition"),
        CommandErrorCode.Concurrency => Problem(StatusCodes.Status409Conflict, "Concurrent update", error.Detail, "concurrency-conflict"),
        CommandErrorCode.Unprocessable => Problem(StatusCodes.Status422UnprocessableEntity, "Cannot be applied to this " + aggregate, error.Detail, "unprocessable"),
        CommandErrorCode.TooLarge => Problem(StatusCodes.Status413PayloadTooLarge, "Too large", error.Detail, "too-large"),
        _ => throw new InvalidOperationException($"No problem document for {error.Code}."),
    };

    public static ProblemHttpResult Problem(int status, string title, string detail, string kind) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: Type(kind));

    public static ValidationProblem Validation(IReadOnlyDictionary<string, string[]> errors, string detail = "The request has invalid fields.") =>
        TypedResults.ValidationProblem(errors, detail: detail, title: "Invalid request", type: Type("validation"));

    public static ValidationProblem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>An absent body or a JSON null, where the command needs an object (the framework's own answer names .NET types).</summary>
    public static ValidationProblem MissingBody() => Validation("$", "must be a JSON object: the request has no body, or null");

    public static ProblemHttpResult NotFound(string detail) =>
        Problem(StatusCodes.Status404NotFound, "Not found", detail, "not-found");

    /// <summary>The problem document for an error the framework answered without a body (no route, wrong method, wrong content type).</summary>
    public static Task ForStatusCodeAsync(HttpContext context)
    {
        var request = context.Request;
        var (title, detail, kind) = context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => ("Not found", $"Nothing is served at {request.Method} {request.Path}.", "not-found"),
            StatusCodes.Status405MethodNotAllowed => ("Method not allowed", $"{request.Path} does not accept {request.Method}.", "method-not-allowed"),
            StatusCodes.Status415UnsupportedMediaType => ("Unsupported media type", "Send the body as JSON with Content-Type: application/json.", "unsupported-media-type"),
            var status => (ReasonPhrases.GetReasonPhrase(status), $"The request failed with status {status}.", "http-" + status),
        };
        return WriteAsync(context, context.Response.StatusCode, title, detail, kind);
    }

    /// <summary>Writes a problem document from middleware (authentication, limits, exception handling).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, string kind)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = Type(kind) };
        await context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }); // whatever the Accept header: AnyAcceptProblemWriter
    }
}
