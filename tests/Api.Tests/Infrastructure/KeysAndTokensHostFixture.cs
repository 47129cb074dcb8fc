using Microsoft.AspNetCore.Builder;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>One API host per test class that accepts both the keys and Entra ID tokens signed by the test key.</summary>
public sealed class KeysAndTokensHostFixture(AzuriteFixture azurite) : ApiHostFixture(azurite)
{
    protected override void Configure(WebApplicationBuilder builder) => TestTokens.AcceptTestTokens(builder);
}
