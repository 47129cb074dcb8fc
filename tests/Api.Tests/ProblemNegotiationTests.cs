using System.Net;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// API.md: every error is a problem document, whatever the client's Accept header asks for.
/// ASP.NET Core's problem details service declines to write for an Accept header without a JSON
/// type, which turned every middleware refusal (404, 405, 401, 413) into an empty 500.
/// </summary>
public sealed class ProblemNegotiationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    public static TheoryData<string> NoJsonAccepted => ["text/html", "text/plain", "image/png", "x/y;q=1", "garbage"];

    [Theory]
    [MemberData(nameof(NoJsonAccepted))]
    public async Task A_method_not_allowed_is_a_405_problem_document_whatever_the_client_accepts(string accept)
    {
        using var response = await host.Admin.SendAsync(HttpMethod.Options, "/api/orders", null, request => request.Headers.TryAddWithoutValidation("Accept", accept));
        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed, "/problems/method-not-allowed");
    }

    [Theory]
    [MemberData(nameof(NoJsonAccepted))]
    public async Task An_unknown_path_is_a_404_problem_document_whatever_the_client_accepts(string accept)
    {
        using var response = await host.Admin.GetAsync("/no/such/path", request => request.Headers.TryAddWithoutValidation("Accept", accept));
        await response.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    /// <summary>An endpoint's own problem (a validation problem, a 404) lost its traceId for such a client.</summary>
    [Theory]
    [MemberData(nameof(NoJsonAccepted))]
    public async Task An_endpoints_problem_has_its_trace_id_whatever_the_client_accepts(string accept)
    {
        using var invalid = await host.Reader.GetAsync("/api/orders/x?version=0", request => request.Headers.TryAddWithoutValidation("Accept", accept));
        await invalid.AssertValidationProblemAsync("version");
        using var missing = await host.Reader.GetAsync("/api/orders/no-such-order", request => request.Headers.TryAddWithoutValidation("Accept", accept));
        await missing.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    /// <summary>The charset is judged only for a body its endpoint reads as JSON: elsewhere the route's own answer comes first.</summary>
    [Theory]
    [InlineData("/no/such/path", HttpStatusCode.NotFound)]
    [InlineData("/api/stats/summary", HttpStatusCode.MethodNotAllowed)]
    public async Task A_body_in_another_charset_to_a_route_that_reads_none_gets_the_routes_answer(string path, HttpStatusCode status)
    {
        using var response = await host.Admin.SendAsync(HttpMethod.Post, path, DeclaredContent.Json("{}", "application/json; charset=bogus"));

        await response.AssertProblemAsync(status);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task A_health_endpoint_answers_GET_only(string path)
    {
        using var response = await host.Admin.SendAsync(HttpMethod.Delete, path, null);
        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed, "/problems/method-not-allowed");
    }

    /// <summary>The dashboard (a library) threw on a malformed silo address in its path: a 500.</summary>
    [Theory]
    [InlineData("/dashboard/SiloCounters/garbage")]
    [InlineData("/dashboard/SiloProperties/S127.0.0.1:1:1")]
    [InlineData("/dashboard/HistoricalStats/garbage")]
    public async Task A_dashboard_path_with_a_malformed_silo_address_is_a_400_problem(string path)
    {
        using var response = await host.Admin.GetAsync(path);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "/problems/bad-request");
    }

    [Fact]
    public async Task A_missing_key_is_a_401_problem_document_for_a_client_that_accepts_only_HTML()
    {
        using var response = await host.Anonymous.GetAsync("/api/orders/x", request => request.Headers.TryAddWithoutValidation("Accept", "text/html"));
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
