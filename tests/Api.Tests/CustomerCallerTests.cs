using System.Net;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Customer commands with bearer tokens: they share the per-caller command limit of orders, and an
/// erasure records the token's caller. Each test uses callers of its own.
/// </summary>
public sealed class CustomerCallerTests(RateLimitedHostFixture fixture) : IClassFixture<RateLimitedHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task Customer_commands_count_against_the_caller_s_command_limit_with_orders()
    {
        var subject = Guid.NewGuid().ToString();
        var writer = host.WithToken(TestTokens.Issue(["writer"], subject));
        using (var order = await writer.PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString()))
        {
            await order.AssertJsonAsync(HttpStatusCode.Created);
        }

        for (var i = 1; i < RateLimitedHostFixture.Burst; i++)
        {
            using var accepted = await writer.PostAsync("/api/customers", TestCustomers.RegisterBody(TestCustomers.NewId()).ToJsonString());
            await accepted.AssertJsonAsync(HttpStatusCode.Created);
        }

        var refusedId = TestCustomers.NewId();
        using var refused = await writer.PostAsync("/api/customers", TestCustomers.RegisterBody(refusedId).ToJsonString());

        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "/problems/rate-limited");
        Assert.Contains("Retry after", problem.Str("detail"), StringComparison.Ordinal);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After is '{refused.Header("Retry-After")}'.");
        await host.AssertNothingWrittenToCustomerAsync(refusedId, 0);
    }

    [Fact]
    public async Task An_erasure_by_token_records_the_token_s_caller()
    {
        var id = TestCustomers.NewId();
        using (var registered = await host.WithToken(TestTokens.Issue(["writer"])).PostAsync("/api/customers", TestCustomers.RegisterBody(id).ToJsonString()))
        {
            await registered.AssertJsonAsync(HttpStatusCode.Created);
        }

        var subject = Guid.NewGuid().ToString();
        using var erasure = await host.WithToken(TestTokens.Issue(["admin"], subject)).PostAsync($"/api/customers/{id}/erasure", null);
        await erasure.AssertJsonAsync(HttpStatusCode.OK);

        var audit = (await host.GetAllCustomerEventsAsync(id))[^1];
        Assert.Equal("CustomerPersonalDataErased", audit.Str("type"));
        Assert.Equal("entra:" + subject, audit.GetProperty("data").Str("erasedBy"));
    }
}
