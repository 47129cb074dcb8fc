using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>
/// A host with keys and tokens whose callers may each send <see cref="Burst"/> commands, and then one
/// every 1,000 s: within any test, the next one is refused, however slow the machine.
/// </summary>
public sealed class RateLimitedHostFixture(AzuriteFixture azurite) : ApiHostFixture(azurite)
{
    public const int Burst = 3;

    protected override void Configure(WebApplicationBuilder builder)
    {
        TestTokens.AcceptTestTokens(builder);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RateLimiting:Commands:PermitsPerSecond"] = "0.001",
            ["RateLimiting:Commands:Burst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }
}
