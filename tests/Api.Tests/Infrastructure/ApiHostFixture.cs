using Microsoft.AspNetCore.Builder;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>One API host (Production, with admin/writer/reader keys) per test class, on the assembly's Azurite.</summary>
public class ApiHostFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private ApiHost? host;

    public ApiHost Host => host ?? throw new InvalidOperationException("The API host has not started.");

    public async ValueTask InitializeAsync() => host = await ApiHost.StartAsync(azurite.ConnectionString, configure: Configure);

    /// <summary>What a derived fixture's host has beyond the keys.</summary>
    protected virtual void Configure(WebApplicationBuilder builder)
    {
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}
