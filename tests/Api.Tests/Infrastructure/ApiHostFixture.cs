using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>One API host (Production, with admin/writer/reader keys) per test class, on the assembly's Azurite.</summary>
public sealed class ApiHostFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private ApiHost? host;

    public ApiHost Host => host ?? throw new InvalidOperationException("The API host has not started.");

    public async ValueTask InitializeAsync() => host = await ApiHost.StartAsync(azurite.ConnectionString);

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}
