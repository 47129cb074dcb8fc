using System.Net;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Issue 11 "Identity": Microsoft Entra ID access tokens (signed here by a test key) beside API keys
/// in one host; app roles give what the keys' roles give (API.md "Authentication").
/// </summary>
public sealed class BearerTokenTests(KeysAndTokensHostFixture fixture) : IClassFixture<KeysAndTokensHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task A_writer_token_sends_commands_and_may_not_read()
    {
        var writer = host.WithToken(TestTokens.Issue(["writer"]));
        var id = TestOrders.NewId();

        using var place = await writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertJsonAsync(HttpStatusCode.Created);
        using var pay = await writer.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await pay.AssertJsonAsync(HttpStatusCode.OK);

        using var read = await writer.GetAsync($"/api/orders/{id}");
        await read.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
    }

    [Fact]
    public async Task A_reader_token_reads_and_may_not_send_commands()
    {
        var id = await host.OrderInStatusAsync("placed");
        var reader = host.WithToken(TestTokens.Issue(["reader"]));

        using var read = await reader.GetAsync($"/api/orders/{id}");
        Assert.Equal("placed", (await read.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
        using var stats = await reader.GetAsync("/api/stats/summary");
        await stats.AssertJsonAsync(HttpStatusCode.OK);

        using var pay = await reader.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await pay.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        using var admin = await reader.GetAsync("/api/admin/parked");
        await admin.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        await host.AssertNothingWrittenAsync(id, 1);
    }

    [Fact]
    public async Task An_admin_token_sends_commands_reads_and_administers()
    {
        var admin = host.WithToken(TestTokens.Issue(["admin"]));
        var id = TestOrders.NewId();

        using var place = await admin.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertJsonAsync(HttpStatusCode.Created);
        using var read = await admin.GetAsync($"/api/orders/{id}");
        await read.AssertJsonAsync(HttpStatusCode.OK);
        using var parked = await admin.GetAsync("/api/admin/parked");
        await parked.AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_token_with_both_reader_and_writer_roles_reads_and_writes()
    {
        var both = host.WithToken(TestTokens.Issue(["reader", "writer"]));
        var id = TestOrders.NewId();

        using var place = await both.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertJsonAsync(HttpStatusCode.Created);
        using var read = await both.GetAsync($"/api/orders/{id}");
        await read.AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_valid_token_without_a_role_is_403()
    {
        var nobody = host.WithToken(TestTokens.Issue([]));
        var id = TestOrders.NewId();

        using var place = await nobody.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        using var read = await nobody.GetAsync($"/api/orders/{id}");
        await read.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task A_token_with_an_unknown_role_is_403()
    {
        using var response = await host.WithToken(TestTokens.Issue(["superuser"])).GetAsync($"/api/orders/{TestOrders.NewId()}");

        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
    }

    public static TheoryData<string, string> RefusedTokens => new()
    {
        { "expired", "expired" },
        { "wrong audience", "audience" },
        { "wrong issuer", "issuer" },
        { "untrusted signing key", "signature" },
        { "not a token", "" },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_refused_token_is_401_with_a_Bearer_challenge_and_nothing_is_written(string kind, string reason)
    {
        var token = kind switch
        {
            "expired" => TestTokens.Issue(["admin"], expires: DateTime.UtcNow.AddMinutes(-10)), // beyond the 5 min clock skew
            "wrong audience" => TestTokens.Issue(["admin"], audience: "api://another-application"),
            "wrong issuer" => TestTokens.Issue(["admin"], issuer: "https://login.microsoftonline.com/another-tenant/v2.0"),
            "untrusted signing key" => TestTokens.Issue(["admin"], signedWith: TestTokens.UntrustedKey()),
            _ => "not.a.token",
        };
        var caller = host.WithToken(token);
        var id = TestOrders.NewId();

        using var place = await caller.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        var problem = await place.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        Assert.StartsWith("The bearer token was refused", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains(place.Headers.WwwAuthenticate, challenge => challenge.Scheme == "Bearer" && challenge.Parameter?.Contains("invalid_token", StringComparison.Ordinal) == true);
        Assert.Contains(place.Headers.WwwAuthenticate, challenge => challenge.Scheme == "ApiKey");
        if (reason.Length > 0)
        {
            Assert.Contains(reason, problem.Str("detail"), StringComparison.OrdinalIgnoreCase);
        }

        using var read = await caller.GetAsync($"/api/orders/{id}");
        await read.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task Keys_and_tokens_work_side_by_side_in_one_host()
    {
        var id = TestOrders.NewId();

        using var placedWithKey = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await placedWithKey.AssertJsonAsync(HttpStatusCode.Created);
        using var paidWithToken = await host.WithToken(TestTokens.Issue(["writer"])).PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await paidWithToken.AssertJsonAsync(HttpStatusCode.OK);

        using var readWithKey = await host.Reader.GetAsync($"/api/orders/{id}");
        Assert.Equal("paid", (await readWithKey.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
        using var readWithToken = await host.WithToken(TestTokens.Issue(["reader"])).GetAsync($"/api/orders/{id}");
        Assert.Equal("paid", (await readWithToken.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));

        // The key is judged as before: a writer key still may not read.
        using var writerKeyReads = await host.Writer.GetAsync($"/api/orders/{id}");
        await writerKeyReads.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");

        // An empty X-Api-Key (some proxies and clients send one) is no key: the token is judged.
        using var readWithEmptyKey = await host.WithToken(TestTokens.Issue(["reader"])).GetAsync($"/api/orders/{id}",
            request => request.Headers.TryAddWithoutValidation("X-Api-Key", ""));
        Assert.Equal("paid", (await readWithEmptyKey.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
    }

    /// <summary>A placement's id derives from its Idempotency-Key and the caller: for a token, its subject, whatever token it holds.</summary>
    [Fact]
    public async Task A_retried_placement_by_the_same_subject_with_a_new_token_finds_the_same_order_and_another_subject_gets_its_own()
    {
        var subject = Guid.NewGuid().ToString();
        var idempotencyKey = "retry-" + Guid.NewGuid().ToString("N");
        var body = TestOrders.PlaceBody(null).ToJsonString();

        using var first = await host.WithToken(TestTokens.Issue(["writer"], subject)).PostAsync("/api/orders", body, idempotencyKey);
        var placed = (await first.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId");
        using var retried = await host.WithToken(TestTokens.Issue(["writer"], subject)).PostAsync("/api/orders", body, idempotencyKey);
        Assert.Equal(placed, (await retried.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId"));
        Assert.Equal("true", retried.Header("Idempotent-Replayed"));

        using var other = await host.WithToken(TestTokens.Issue(["writer"])).PostAsync("/api/orders", body, idempotencyKey);
        Assert.NotEqual(placed, (await other.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId"));
    }

    /// <summary>A name claim in the token (a tenant's claims mapping can add one) must not choose the caller: it would share another caller's idempotency scope and rate-limit bucket.</summary>
    [Fact]
    public async Task A_name_claim_in_the_token_does_not_choose_the_caller()
    {
        var idempotencyKey = "named-" + Guid.NewGuid().ToString("N");
        var body = TestOrders.PlaceBody(null).ToJsonString();
        var sameName = new Dictionary<string, object> { [System.Security.Claims.ClaimTypes.Name] = "someone-else" };

        using var first = await host.WithToken(TestTokens.Issue(["writer"], extraClaims: sameName)).PostAsync("/api/orders", body, idempotencyKey);
        var placed = (await first.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId");
        using var second = await host.WithToken(TestTokens.Issue(["writer"], extraClaims: sameName)).PostAsync("/api/orders", body, idempotencyKey);

        Assert.NotEqual(placed, (await second.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId"));
        Assert.Equal(string.Empty, second.Header("Idempotent-Replayed"));
    }

    /// <summary>Without <c>oid</c> the caller is the token's <c>sub</c>: a retry with a new token finds its order; with neither, no caller can be named and the token is refused (never a 500).</summary>
    [Fact]
    public async Task A_token_without_an_oid_is_its_sub_and_a_token_naming_nobody_is_401()
    {
        var subject = Guid.NewGuid().ToString();
        var idempotencyKey = "no-oid-" + Guid.NewGuid().ToString("N");
        var body = TestOrders.PlaceBody(null).ToJsonString();

        using var first = await host.WithToken(TestTokens.Issue(["writer"], subject, withoutClaims: ["oid"])).PostAsync("/api/orders", body, idempotencyKey);
        var placed = (await first.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId");
        using var retried = await host.WithToken(TestTokens.Issue(["writer"], subject, withoutClaims: ["oid"])).PostAsync("/api/orders", body, idempotencyKey);
        Assert.Equal(placed, (await retried.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId"));
        Assert.Equal("true", retried.Header("Idempotent-Replayed"));

        var id = TestOrders.NewId();
        using var nobody = await host.WithToken(TestTokens.Issue(["writer"], withoutClaims: ["oid", "sub"])).PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        var problem = await nobody.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        Assert.StartsWith("The bearer token was refused", problem.Str("detail"), StringComparison.Ordinal);
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task Without_credentials_the_401_names_both_schemes()
    {
        using var response = await host.Anonymous.GetAsync($"/api/orders/{TestOrders.NewId()}");

        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        Assert.Equal(new[] { "ApiKey", "Bearer" }, response.Headers.WwwAuthenticate.Select(challenge => challenge.Scheme).Order(StringComparer.Ordinal));
        Assert.Contains("X-Api-Key", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("Bearer", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_with_a_key_is_judged_by_the_key_even_with_a_bearer_token()
    {
        var id = await host.OrderInStatusAsync("placed");

        // An unknown key with a valid admin token: the key decides, and it is unknown.
        using var unknownKey = await host.WithKey("not-a-configured-key").GetAsync($"/api/orders/{id}",
            request => request.Headers.Authorization = new("Bearer", TestTokens.Issue(["admin"])));
        await unknownKey.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");

        // A reader key with a refused token: the key decides, and it may read.
        using var readerKey = await host.Reader.GetAsync($"/api/orders/{id}", request => request.Headers.Authorization = new("Bearer", "not.a.token"));
        await readerKey.AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_OpenAPI_document_offers_the_bearer_scheme_beside_the_key_on_every_api_route()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");

        var document = await response.AssertJsonAsync(HttpStatusCode.OK);
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("http", schemes.GetProperty("Bearer").Str("type"));
        Assert.Equal("bearer", schemes.GetProperty("Bearer").Str("scheme"));
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(path => path.Name.StartsWith("/api/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var named = operation.Value.GetProperty("security").EnumerateArray().SelectMany(requirement => requirement.EnumerateObject().Select(scheme => scheme.Name)).ToList();
                Assert.True(named.Contains("ApiKey") && named.Contains("Bearer"), $"{operation.Name.ToUpperInvariant()} {path.Name} offers {string.Join(", ", named)}.");
            }
        }
    }
}
