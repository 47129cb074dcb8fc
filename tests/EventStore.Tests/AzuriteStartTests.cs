using System.Net;
using System.Net.Sockets;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

/// <summary>The tests' own Azurite must not take another process's listener for itself.</summary>
public sealed class AzuriteStartTests
{
    [Fact]
    public async Task A_restart_on_a_port_another_process_took_fails_instead_of_talking_to_that_process()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Path.Combine(Path.GetTempPath(), "azurite-port-" + Guid.NewGuid().ToString("N"));
        await using var azurite = await Azurite.StartNewAsync(folder, ct);
        await azurite.StopAsync();

        using var stranger = new TcpListener(IPAddress.Loopback, azurite.Port);
        stranger.Start();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => azurite.StartAsync(ct));

        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.IsType<SocketException>(refused.InnerException).SocketErrorCode);
        Assert.False(azurite.IsRunning);
    }
}
