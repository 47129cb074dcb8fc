using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Operations;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Api.Orders;

/// <summary>Reads the command metadata that travels in HTTP headers.</summary>
public static class OrderRequestContext
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string CorrelationIdHeader = "X-Correlation-Id";
    public const string CausationIdHeader = "X-Causation-Id";
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>Idempotency keys and correlation ids: 1–200 visible ASCII characters.</summary>
    public const int MaxHeaderValueLength = 200;

    private const string HeaderRule = "1–200 visible ASCII characters";

    /// <summary>The metadata for a command, or the validation errors of its headers.</summary>
    public static (CommandMetadata? Metadata, Dictionary<string, string[]> Errors) Read(HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        var idempotencyKey = Header(http, IdempotencyKeyHeader, errors);
        var correlationId = Header(http, CorrelationIdHeader, errors) ?? DefaultCorrelationId(http);
        var causationId = Header(http, CausationIdHeader, errors);
        return errors.Count > 0 ? (null, errors) : (new CommandMetadata(correlationId, causationId, idempotencyKey), errors);
    }

    /// <summary>
    /// The metadata of a command to the aggregate of route id <paramref name="id"/>, or the 400
    /// that refuses the request (a malformed id or header).
    /// </summary>
    public static (CommandMetadata? Metadata, IResult? Refusal) ReadCommand(HttpContext http, string id)
    {
        if (CheckRouteId(id) is { } idErrors)
        {
            return (null, Problems.Validation(idErrors));
        }

        var (metadata, headerErrors) = Read(http);
        return metadata is null ? (null, Problems.Validation(headerErrors)) : (metadata, null);
    }

    /// <summary>
    /// The id of an order placed without one. With an Idempotency-Key it is derived from the key
    /// (and the caller), so that a retried placement reaches the same order instead of creating a second.
    /// </summary>
    public static string NewOrderId(HttpContext http, string? idempotencyKey)
    {
        if (idempotencyKey is null)
        {
            return "ord-" + Guid.CreateVersion7().ToString("N");
        }

        var scope = (http.User.Identity?.Name ?? string.Empty) + "\n" + idempotencyKey;
        return "ord-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(scope)))[..32].ToLowerInvariant();
    }

    /// <summary>
    /// A group of command routes (POST) of one aggregate: only <paramref name="policy"/> may send them
    /// (<paramref name="roles"/> says who that is), limited per caller, reading the headers of
    /// <see cref="Read"/>, with the answers every command shares documented.
    /// </summary>
    public static RouteGroupBuilder MapCommandGroup(this IEndpointRouteBuilder endpoints, string prefix, string tag, string policy, string roles, string? idempotencyNote = null) =>
        endpoints.MapGroup(prefix).WithTags(tag).RequireAuthorization(policy)
            .AnswersUnauthorized(roles).AnswersBodyProblems().AnswersUnavailableCommand()
            .RequireRateLimiting(CommandRateLimits.PolicyName).AnswersTooManyRequests()
            .ReadsCommandHeaders(idempotencyNote);

    /// <summary>Documents the headers <see cref="Read"/> takes; <paramref name="idempotencyNote"/> adds what the key also does on these routes.</summary>
    public static TBuilder ReadsCommandHeaders<TBuilder>(this TBuilder builder, string? idempotencyNote = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .ReadsHeader(IdempotencyKeyHeader,
                $"Optional, {HeaderRule}. A retry with the same key (and the same body) is applied at most once and answers as the first time, with Idempotent-Replayed: true."
                + (idempotencyNote is null ? "" : " " + idempotencyNote))
            .ReadsHeader(CorrelationIdHeader,
                $"Optional, {HeaderRule}: recorded with the events and echoed in the answer. Absent: the request's trace id.")
            .ReadsHeader(CausationIdHeader, $"Optional, {HeaderRule}: what caused this command, recorded with the events.");

    /// <summary>
    /// The answer to a command of any aggregate: the problem for its <paramref name="error"/>, else
    /// <paramref name="success"/> with the aggregate's view, marked <see cref="ReplayedHeader"/> when it was a replay.
    /// </summary>
    public static IResult Answer<TView>(HttpContext http, CommandError? error, TView? view, bool replayed, Func<TView, IResult> success, string aggregate)
        where TView : class
    {
        if (error is not null)
        {
            return Problems.From(error, aggregate);
        }

        if (replayed)
        {
            http.Response.Headers[ReplayedHeader] = "true";
        }

        return success(view ?? throw new InvalidOperationException($"A {aggregate} command succeeded without the {aggregate}'s view."));
    }

    /// <summary>The id in a route (an order's, a customer's): <see cref="Identifiers"/>, else the errors naming it.</summary>
    public static Dictionary<string, string[]>? CheckRouteId(string id) =>
        Identifiers.IsValid(id) ? null : new Dictionary<string, string[]> { ["id"] = [Identifiers.Rule] };

    /// <summary>The correlation id of a request that names none: its trace id.</summary>
    private static string DefaultCorrelationId(HttpContext http) => Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;

    /// <summary>
    /// Echoes the request's correlation id (the <c>X-Correlation-Id</c> it sent, else its trace id)
    /// on every answer, at the answer's start: also on those given before a command reads its headers
    /// (an unreadable body, 413, 429) and after the exception handler cleared the headers (503).
    /// </summary>
    public static IApplicationBuilder UseCorrelationIdEcho(this IApplicationBuilder app) =>
        app.Use(async (http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                http.Response.Headers[CorrelationIdHeader] = HeaderValueOf(http.Request.Headers[CorrelationIdHeader]) is { } sent ? sent : DefaultCorrelationId(http);
                return Task.CompletedTask;
            });
            await next(http);
        });

    private static string? Header(HttpContext http, string name, Dictionary<string, string[]> errors)
    {
        if (!http.Request.Headers.TryGetValue(name, out var values))
        {
            return null;
        }

        var value = HeaderValueOf(values);
        if (value is null)
        {
            errors[name] = [$"must be one value of 1–{MaxHeaderValueLength} visible ASCII characters"];
            return null;
        }

        return value;
    }

    /// <summary>The header's value when it is one value of 1–200 visible ASCII characters; else null.</summary>
    private static string? HeaderValueOf(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Count == 1 && values.ToString() is { Length: > 0 and <= MaxHeaderValueLength } value && !value.Any(c => c is < '!' or > '~') ? value : null;
}
