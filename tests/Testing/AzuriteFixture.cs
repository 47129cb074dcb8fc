using Xunit;

namespace OrderFlow.Testing;

/// <summary>One Azurite per test assembly (xunit assembly fixture); suites isolate themselves by table name.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private Azurite? azurite;

    public Azurite Azurite => azurite ?? throw new InvalidOperationException("Azurite has not started.");

    public string ConnectionString => Azurite.ConnectionString;

    public async ValueTask InitializeAsync() => azurite = await Azurite.StartNewAsync();

    public async ValueTask DisposeAsync()
    {
        if (azurite is not null)
        {
            await azurite.DisposeAsync();
        }
    }
}
