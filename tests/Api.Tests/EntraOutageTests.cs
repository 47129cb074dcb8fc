using System.Net;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Issue 11 "Identity": when the Entra ID authority's OpenID configuration (issuer, signing keys)
/// cannot be fetched, a bearer token cannot be judged; that is an outage, not the caller's fault:
/// 503 <c>/problems/identity-unavailable</c> with Retry-After, nothing done, API keys unaffected.
/// The authority is a real HTTPS server on loopback (<see cref="LocalAuthority"/>), or a port with
/// nothing listening.
/// </summary>
public sealed class EntraOutageTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task While_the_authority_answers_503_a_token_is_503_with_Retry_After_and_once_it_is_back_the_same_token_is_accepted()
    {
        await using var authority = await LocalAuthority.StartAsync();
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, configure: authority.Use);
        var writer = host.WithToken(TestTokens.Issue(["writer"]));
        var id = TestOrders.NewId();

        using (var refused = await writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString()))
        {
            await AssertIdentityUnavailableAsync(refused);
        }

        await host.AssertNothingWrittenAsync(id, 0);
        using (var withKey = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString()))
        {
            await withKey.AssertJsonAsync(HttpStatusCode.Created);
        }

        authority.Down = false;
        // The configuration manager retries a failed first fetch after a short back-off of its own.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpStatusCode status;
        do
        {
            using var retried = await writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
            status = retried.StatusCode;
            if (status != HttpStatusCode.ServiceUnavailable)
            {
                await retried.AssertJsonAsync(HttpStatusCode.Created);
                break;
            }

            await AssertIdentityUnavailableAsync(retried);
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task An_authority_nobody_listens_at_is_503_for_a_token_and_401_for_no_credentials()
    {
        var nowhere = $"https://127.0.0.1:{Azurite.FreePort()}/{TestTokens.TenantId}/v2.0";
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, configure: builder => LocalAuthority.Use(builder, nowhere, trusted: null));

        using var read = await host.WithToken(TestTokens.Issue(["reader"])).GetAsync($"/api/orders/{TestOrders.NewId()}");
        await AssertIdentityUnavailableAsync(read);

        using var anonymous = await host.Anonymous.GetAsync($"/api/orders/{TestOrders.NewId()}");
        await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
    }

    private static async Task AssertIdentityUnavailableAsync(HttpResponseMessage response)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "/problems/identity-unavailable");
        Assert.Contains("nothing was done", problem.Str("detail"), StringComparison.Ordinal);
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After is '{response.Header("Retry-After")}'.");
    }
}
