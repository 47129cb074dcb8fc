using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Request framing that no well-behaved client sends, written byte by byte onto a socket to the
/// real Kestrel host: every one gets a complete answer below 500, and none hangs.
/// </summary>
public sealed class MalformedFramingTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Json = """{"customerId":"c-1","currency":"EUR","items":[{"sku":"s-1","quantity":1,"unitPrice":1.00}]}""";

    private readonly ApiHost host = fixture.Host;

    private string Authority => $"{host.BaseAddress.Host}:{host.BaseAddress.Port}";

    private string ChunkedPost(string key, string chunks) =>
        $"POST /api/orders HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}";

    /// <summary>Issue 8: a chunk-size line of eighteen hex digits overflows Kestrel's chunk-size parser; it was a 500.</summary>
    [Fact]
    public async Task A_chunk_size_that_overflows_is_400()
    {
        var answer = await RawHttp.SendAsync(host.BaseAddress, ChunkedPost(ApiHost.WriterKey, "ffffffffffffffffff\r\nabc\r\n0\r\n\r\n"));

        answer.AssertProblem(400);
    }

    /// <summary>Without a key the request is refused before its body is read (see <see cref="AuthenticationTests"/>).</summary>
    [Fact]
    public async Task A_chunk_size_that_overflows_without_a_key_is_401()
    {
        var request = $"POST /api/orders HTTP/1.1\r\nHost: {Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        answer.AssertProblem(401);
    }

    /// <summary>A route that does not exist still reads the body (to measure it): the bad framing is a 400 there too.</summary>
    [Fact]
    public async Task A_chunk_size_that_overflows_on_an_unknown_route_is_400()
    {
        var request = $"POST /no/such/route HTTP/1.1\r\nHost: {Authority}\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        answer.AssertProblem(400);
    }

    [Theory]
    [InlineData("not-hex", "zz\r\nabc\r\n0\r\n\r\n")]
    [InlineData("negative size", "-5\r\nabcde\r\n0\r\n\r\n")]
    [InlineData("a control byte in a chunk extension", "5;\u0001ext\r\nabcde\r\n0\r\n\r\n")]
    [InlineData("a bare LF in a chunk extension", "5;a=\nb\r\nabcde\r\n0\r\n\r\n")]
    [InlineData("no CRLF after the chunk data", "5\r\nabcdeXY0\r\n\r\n")]
    [InlineData("a chunk longer than its size", "2\r\nabcde\r\n0\r\n\r\n")]
    [InlineData("an empty size line", "\r\nabc\r\n0\r\n\r\n")]
    [InlineData("a size with spaces inside", "1 0\r\nabc\r\n0\r\n\r\n")]
    public async Task Malformed_chunks_are_400(string description, string chunks)
    {
        var answer = await RawHttp.SendAsync(host.BaseAddress, ChunkedPost(ApiHost.WriterKey, chunks));

        Assert.True(answer.Status == 400, $"{description}: expected 400, got {answer.Status}:\n{answer.Head}\n{answer.Body}");
    }

    /// <summary>A chunk far over the body limit is refused once the limit is passed, without waiting for the rest.</summary>
    [Fact]
    public async Task A_chunk_declared_larger_than_the_body_limit_is_413()
    {
        var chunk = new string('x', 70_000);
        var answer = await RawHttp.SendAsync(host.BaseAddress, ChunkedPost(ApiHost.WriterKey, $"7fffffff\r\n{chunk}"));

        answer.AssertProblem(413);
    }

    [Fact]
    public async Task A_Content_Length_shorter_than_the_body_is_answered_without_a_server_error()
    {
        var request = $"POST /api/orders HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {ApiHost.WriterKey}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{Json}";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        answer.AssertProblem(400);
    }

    /// <summary>
    /// The client promises more body and goes quiet: Kestrel's minimum data rate ends the wait with a
    /// 408, whose problem document says so (it said "bad request" with status 408).
    /// </summary>
    [Fact]
    public async Task A_Content_Length_longer_than_the_body_with_a_silent_client_is_a_408_request_timeout_problem()
    {
        var request = $"POST /api/orders HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {ApiHost.WriterKey}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{Json}";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request, answerWithin: TimeSpan.FromSeconds(60));

        answer.AssertProblem(408, "/problems/request-timeout");
    }

    [Theory]
    [InlineData("a control byte in a header value", "X-Note: a\u0001b\r\n")]
    [InlineData("a space in a header name", "X Note: a\r\n")]
    [InlineData("a header without a colon", "X-Note\r\n")]
    [InlineData("a non-numeric Content-Length", "Content-Length: ten\r\n")]
    [InlineData("two different Content-Lengths", "Content-Length: 5\r\nContent-Length: 6\r\n")]
    [InlineData("an unknown transfer coding", "Transfer-Encoding: gzip\r\n")]
    [InlineData("chunked not last", "Transfer-Encoding: chunked, gzip\r\n")]
    [InlineData("a folded header", "X-Note: a\r\n b\r\n")]
    public async Task Malformed_headers_are_4xx(string description, string header)
    {
        var request = $"POST /api/orders HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {ApiHost.WriterKey}\r\nContent-Type: application/json\r\n{header}\r\n{Json}";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        Assert.True(answer.Status is >= 400 and < 500, $"{description}: expected a 4xx, got {answer.Status}:\n{answer.Head}\n{answer.Body}");
    }

    [Fact]
    public async Task Both_Content_Length_and_chunked_are_answered_without_a_server_error()
    {
        var request = $"POST /api/orders HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {ApiHost.WriterKey}\r\nContent-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        Assert.True(answer.Status is >= 400 and < 500, $"Expected a 4xx, got {answer.Status}:\n{answer.Head}\n{answer.Body}");
    }

    [Theory]
    [InlineData("a body with Content-Length", "Content-Length: 5\r\n\r\nhello")]
    [InlineData("a well-formed chunked body", "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("an overflowing chunked body", "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n")]
    public async Task A_GET_with_a_body_is_answered_without_a_server_error(string description, string framing)
    {
        var request = $"GET /api/orders/{TestOrders.NewId()} HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {ApiHost.ReaderKey}\r\n{framing}";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        Assert.True(answer.Status == 404, $"{description}: expected the order's 404, got {answer.Status}:\n{answer.Head}\n{answer.Body}");
    }

    /// <summary>
    /// A chunked body of no chunks (0\r\n\r\n, what a client streaming an empty body sends) is no
    /// body, as Content-Length: 0 is: a command whose body may be left out applies. It was 415
    /// without Content-Type and 400 "not valid JSON" with it.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("Content-Type: application/json\r\n")]
    [InlineData("Content-Type: application/json; charset=iso-8859-1\r\n")] // as with Content-Length: 0, no body has no charset to refuse
    public async Task An_empty_chunked_body_is_no_body(string contentType)
    {
        var id = await host.OrderInStatusAsync("shipped");
        var request = $"POST /api/orders/{id}/delivery HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {ApiHost.WriterKey}\r\n{contentType}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        Assert.True(answer.Status == 200, $"Expected 200, got {answer.Status}:\n{answer.Head}\n{answer.Body}");
        Assert.Equal("delivered", (await host.GetOrderAsync(id)).Str("status"));
    }

    /// <summary>A command that needs its body gets the same 400 for an empty chunked body as for Content-Length: 0.</summary>
    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("Content-Length: 0\r\n\r\n")]
    public async Task A_placement_without_a_body_is_a_validation_problem_however_framed(string framing)
    {
        var request = $"POST /api/orders HTTP/1.1\r\nHost: {Authority}\r\nX-Api-Key: {ApiHost.WriterKey}\r\nContent-Type: application/json\r\n{framing}";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        answer.AssertProblem(400);
        Assert.Contains("the request has no body", answer.Body, StringComparison.Ordinal);
    }
}
