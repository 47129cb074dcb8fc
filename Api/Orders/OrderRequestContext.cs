using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
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

    /// <summary>The metadata for a command, or the validation errors of its headers.</summary>
    public static (CommandMetadata? Metadata, Dictionary<string, string[]> Errors) Read(HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        var idempotencyKey = Header(http, IdempotencyKeyHeader, errors);
        var correlationId = Header(http, CorrelationIdHeader, errors) ?? Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;
        var causationId = Header(http, CausationIdHeader, errors);
        http.Response.Headers[CorrelationIdHeader] = correlationId;
        return errors.Count > 0 ? (null, errors) : (new CommandMetadata(correlationId, causationId, idempotencyKey), errors);
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

    public static Dictionary<string, string[]>? CheckOrderId(string id) =>
        Identifiers.IsValid(id) ? null : new Dictionary<string, string[]> { ["id"] = [Identifiers.Rule] };

    private static string? Header(HttpContext http, string name, Dictionary<string, string[]> errors)
    {
        if (!http.Request.Headers.TryGetValue(name, out var values))
        {
            return null;
        }

        var value = values.ToString();
        if (values.Count != 1 || value.Length is 0 or > MaxHeaderValueLength || value.Any(c => c is < '!' or > '~'))
        {
            errors[name] = [$"must be one value of 1–{MaxHeaderValueLength} visible ASCII characters"];
            return null;
        }

        return value;
    }
}
