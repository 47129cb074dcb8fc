using System.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Writes a problem document whatever the request's Accept header names: ASP.NET Core's own writer
/// declines when it names no JSON type, and the framework's fallback then writes one without its
/// <c>traceId</c>; API.md answers every error as a problem document. Registered after that writer,
/// so it writes only what that one declines.
/// </summary>
public sealed class AnyAcceptProblemWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json"));
    }
}
