using System.Net;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Issue 11 "Identity": commands are limited per caller (API key, or token subject), from
/// <c>RateLimiting:Commands</c>; over the limit a command is refused with 429, Retry-After and a
/// problem document, and other callers and queries go on. Each test uses callers of its own.
/// </summary>
public sealed class RateLimitTests(RateLimitedHostFixture fixture) : IClassFixture<RateLimitedHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task A_key_over_its_command_limit_is_429_and_its_queries_and_other_keys_go_on()
    {
        var placed = new List<string>();
        for (var i = 0; i < RateLimitedHostFixture.Burst; i++)
        {
            var id = TestOrders.NewId();
            using var accepted = await host.Admin.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
            await accepted.AssertJsonAsync(HttpStatusCode.Created);
            placed.Add(id);
        }

        var refusedId = TestOrders.NewId();
        using var refused = await host.Admin.PostAsync("/api/orders", TestOrders.PlaceBody(refusedId).ToJsonString());
        await AssertRateLimitedAsync(refused);
        using var refusedPayment = await host.Admin.PostAsync($"/api/orders/{placed[0]}/payments", TestOrders.PayBody().ToJsonString());
        await AssertRateLimitedAsync(refusedPayment);
        await host.AssertNothingWrittenAsync(refusedId, 0);
        await host.AssertNothingWrittenAsync(placed[0], 1);

        // Queries are not limited, not even the limited caller's.
        using var read = await host.Admin.GetAsync($"/api/orders/{placed[0]}");
        await read.AssertJsonAsync(HttpStatusCode.OK);
        using var events = await host.Admin.GetAsync($"/api/orders/{placed[0]}/events");
        await events.AssertJsonAsync(HttpStatusCode.OK);

        // Another key has its own bucket.
        using var otherKey = await host.Writer.PostAsync($"/api/orders/{placed[0]}/payments", TestOrders.PayBody().ToJsonString());
        await otherKey.AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_token_subject_over_its_command_limit_is_429_and_another_subject_goes_on()
    {
        var subject = Guid.NewGuid().ToString();
        for (var i = 0; i < RateLimitedHostFixture.Burst; i++)
        {
            // A new token each time: the limit goes by the caller, not by the token.
            using var accepted = await host.WithToken(TestTokens.Issue(["writer"], subject)).PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());
            await accepted.AssertJsonAsync(HttpStatusCode.Created);
        }

        using var refused = await host.WithToken(TestTokens.Issue(["writer"], subject)).PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());
        await AssertRateLimitedAsync(refused);

        using var otherSubject = await host.WithToken(TestTokens.Issue(["writer"])).PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());
        await otherSubject.AssertJsonAsync(HttpStatusCode.Created);
    }

    /// <summary>Entra ID leaves <c>oid</c> out of some tokens (a personal account's, some v1 flows'): the caller is then the token's <c>sub</c>.</summary>
    [Fact]
    public async Task A_token_without_an_oid_is_limited_by_its_sub_and_another_sub_goes_on()
    {
        var subject = Guid.NewGuid().ToString();
        for (var i = 0; i < RateLimitedHostFixture.Burst; i++)
        {
            using var accepted = await host.WithToken(TestTokens.Issue(["writer"], subject, withoutClaims: ["oid"])).PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());
            await accepted.AssertJsonAsync(HttpStatusCode.Created);
        }

        using var refused = await host.WithToken(TestTokens.Issue(["writer"], subject, withoutClaims: ["oid"])).PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());
        await AssertRateLimitedAsync(refused);

        using var otherSubject = await host.WithToken(TestTokens.Issue(["writer"], withoutClaims: ["oid"])).PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());
        await otherSubject.AssertJsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task The_OpenAPI_document_names_the_429_with_Retry_After_on_every_command_and_on_no_query()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");

        var document = await response.AssertJsonAsync(HttpStatusCode.OK);
        var commands = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(path => path.Name.StartsWith("/api/orders", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var limited = operation.Value.GetProperty("responses").TryGetProperty("429", out var tooMany);
                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                if (operation.Name == "post")
                {
                    commands++;
                    Assert.True(limited, $"{name} does not document its 429 answer.");
                    Assert.True(tooMany.GetProperty("headers").TryGetProperty("Retry-After", out _), $"{name}: its 429 answer does not name Retry-After.");
                }
                else
                {
                    Assert.False(limited, $"{name} is a query and is not limited.");
                }
            }
        }

        Assert.Equal(6, commands);
    }

    private static async Task AssertRateLimitedAsync(HttpResponseMessage response)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.TooManyRequests, "/problems/rate-limited");
        Assert.Contains("Retry after", problem.Str("detail"), StringComparison.Ordinal);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter >= TimeSpan.FromSeconds(1), $"Retry-After is '{response.Header("Retry-After")}'.");
    }
}
