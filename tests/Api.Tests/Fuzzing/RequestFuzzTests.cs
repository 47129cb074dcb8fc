using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Fuzzing;

/// <summary>Its own host: the fuzz test compares every row of the host's tables before and after.</summary>
public sealed class FuzzHostFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private ApiHost? host;

    public ApiHost Host => host ?? throw new InvalidOperationException("The API host has not started.");

    public string ConnectionString => azurite.ConnectionString;

    public async ValueTask InitializeAsync() => host = await ApiHost.StartAsync(azurite.ConnectionString);

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}

/// <summary>
/// Thousands of generated hostile requests over every route (wrong types, extremes, control
/// characters, bidi and emoji, path tricks, header abuse, oversized and malformed framing): never
/// a 5xx, every refusal the application answers is a problem document, and nothing is written.
/// A failure prints the smallest failing request CsCheck found and the seed that replays it.
/// </summary>
public sealed class RequestFuzzTests(FuzzHostFixture fixture) : IClassFixture<FuzzHostFixture>
{
    private const int Requests = 3_000;
    private const int FramingRequests = 400;

    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task No_generated_request_gets_a_5xx_or_an_answer_that_is_not_a_problem_document_and_none_writes()
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8, // header values with non-ASCII characters go out as they are
        })
        { Timeout = TimeSpan.FromSeconds(60) };
        await WarmUpAsync(http);
        var before = await TableRows.ReadAsync(fixture.ConnectionString, host.Tables);

        await RequestGenerators.Request.SampleAsync(request => CheckAsync(http, request), iter: Requests, threads: 2, print: r => r.ToString());

        var after = await TableRows.ReadAsync(fixture.ConnectionString, host.Tables);
        Assert.True(TableRows.Differences(before, after) is [], "Generated requests changed storage:\n" + string.Join('\n', TableRows.Differences(before, after).Take(20)));
    }

    [Fact]
    public async Task No_malformed_framing_gets_a_5xx_or_hangs_and_none_writes()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        await WarmUpAsync(http);
        var before = await TableRows.ReadAsync(fixture.ConnectionString, host.Tables);

        await RequestGenerators.Framing.SampleAsync(async framing =>
        {
            var answer = await RawHttp.SendAsync(host.BaseAddress, framing.Request, closeSending: framing.Close);
            // RFC 9110 answers a request for a protocol version the server does not speak with 505
            // (Kestrel does so itself): the one 5xx that is the right answer to the client.
            var unsupportedVersion = answer.Status == 505 && !Encoding.Latin1.GetString(framing.Request).Split("\r\n")[0].EndsWith("HTTP/1.1", StringComparison.Ordinal);
            Assert.True(answer.Status is null or < 500 || unsupportedVersion, $"{framing.Description}: {answer.Head}\n{answer.Body}");
            var isCommand = framing.Request.AsSpan().StartsWith("POST "u8);
            Assert.True(!isCommand || answer.Status is not (>= 200 and < 300), $"{framing.Description} was accepted: {answer.Head}\n{answer.Body}");
            if (answer.Status is >= 400 && answer.Header("Content-Type") is { Length: > 0 } contentType)
            {
                // Kestrel refuses a message it cannot parse before the application sees it, with an
                // empty answer; whatever the application answered must be a problem document.
                AssertProblem(answer.Status.Value, contentType, answer.Body, framing.Description);
            }
        }, iter: FramingRequests, threads: 2, print: framing => framing.Description);

        var after = await TableRows.ReadAsync(fixture.ConnectionString, host.Tables);
        Assert.True(TableRows.Differences(before, after) is [], "Malformed requests changed storage:\n" + string.Join('\n', TableRows.Differences(before, after).Take(20)));
    }

    /// <summary>
    /// Touches every route once with valid input first, so that what activating a grain writes
    /// (the projection control's first record, for one) is not mistaken for a request's write.
    /// </summary>
    private async Task WarmUpAsync(HttpClient http)
    {
        foreach (var path in new[]
        {
            "/api/stats/summary", "/api/stats/timeseries?from=2026-11-25T00:00:00Z&to=2026-11-25T01:00:00Z&interval=minute",
            "/api/stats/products", "/api/stats/customers/c-1", "/api/alerts", "/api/stats/stuck?status=paid", "/api/orders/fz-warm-up",
            "/health/ready",
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.BaseAddress, path));
            request.Headers.Add("X-Api-Key", ApiHost.AdminKey);
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.True((int)response.StatusCode < 500 || response.StatusCode == HttpStatusCode.ServiceUnavailable && path == "/health/ready", $"Warm-up {path}: {(int)response.StatusCode}");
        }
    }

    private async Task CheckAsync(HttpClient http, FuzzRequest generated)
    {
        var target = new Uri(host.BaseAddress + generated.Target.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(generated.Method), target);
        if (generated.Key is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", generated.Key);
        }

        foreach (var (name, value) in generated.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (generated.Body is not null)
        {
            request.Content = generated.Chunked ? new RawChunkedContent(generated.Body) : new ByteArrayContent(generated.Body);
            request.Content.Headers.Remove("Content-Type");
            if (generated.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", generated.ContentType);
            }
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // Readiness answers 503 when a check outlasts its budget, as it may on a loaded machine: not a failure of the request.
        Assert.True(status < 500 || status == 503 && generated.Target.StartsWith("/health/ready", StringComparison.Ordinal), $"{status} for {generated}: {body}");
        if (generated.Method == "POST")
        {
            Assert.True(status >= 400, $"A generated command was accepted ({status}): {generated}: {body}");
        }

        if (status >= 400 && generated.Method != "HEAD" && !IsRefusedByKestrel(response, body))
        {
            AssertProblem(status, response.Content.Headers.ContentType?.MediaType, body, generated.ToString());
        }
    }

    /// <summary>
    /// Kestrel refuses what is not valid HTTP (a NUL in the path, a header over its limits) itself,
    /// before any middleware runs: an empty 400, 414 or 431 that closes the connection.
    /// </summary>
    private static bool IsRefusedByKestrel(HttpResponseMessage response, string body) =>
        (int)response.StatusCode is 400 or 414 or 431
        && body.Length == 0
        && response.Content.Headers.ContentType is null
        && response.Headers.ConnectionClose == true;

    private static void AssertProblem(int status, string? contentType, string body, string request)
    {
        Assert.True(contentType?.StartsWith("application/problem+json", StringComparison.Ordinal) == true,
            $"{status} for {request} is not a problem document ({contentType}): {body}");
        using var problem = JsonDocument.Parse(body);
        var root = problem.RootElement;
        foreach (var member in new[] { "type", "title", "detail" })
        {
            Assert.True(root.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0,
                $"The problem document for {request} lacks '{member}': {body}");
        }

        Assert.True(root.TryGetProperty("status", out var statusMember) && statusMember.GetInt32() == status,
            $"The problem document for {request} has another status than {status}: {body}");
        Assert.False(body.Contains("System.", StringComparison.Ordinal), $"The problem document for {request} names a .NET type: {body}");
    }

    /// <summary>Bytes of unknown length: HttpClient sends them chunked.</summary>
    private sealed class RawChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
