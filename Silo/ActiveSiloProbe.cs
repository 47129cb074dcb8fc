using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace OrderFlow.Silo;

/// <summary>
/// A TCP port that accepts connections only while the silo is active (<c>Orleans:ProbePort</c>):
/// what a platform's startup and readiness probes connect to. The silo and gateway ports are bound
/// while Orleans initializes, before the silo has joined the cluster, so a probe of those passed a
/// replica that could not serve yet (and a rollout then stopped the old silos with no new one
/// active). Opened at <see cref="ServiceLifecycleStage.Active"/>; closed first when the silo stops.
/// </summary>
public sealed class ActiveSiloProbe(int port, ILogger<ActiveSiloProbe> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private TcpListener? listener;
    private Task? accepting;
    private volatile bool stopping;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ActiveSiloProbe), ServiceLifecycleStage.Active, OpenAsync, CloseAsync);

    private Task OpenAsync(CancellationToken cancellationToken)
    {
        listener = new TcpListener(IPAddress.Any, port);
        try
        {
            listener.Start();
        }
        catch (SocketException exception)
        {
            throw new InvalidOperationException($"{OrleansHostSettings.Section}:{nameof(OrleansHostSettings.ProbePort)} is {port}, which cannot be listened on ({exception.SocketErrorCode}).", exception);
        }

        accepting = AcceptAsync(listener);
        logger.LogInformation("Silo active: probe port {Port} accepts connections.", port);
        return Task.CompletedTask;
    }

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        listener?.Stop();
        if (accepting is { } loop)
        {
            await loop;
        }
    }

    /// <summary>Accepts and closes: a probe only asks whether it can connect. A failed accept (a connection reset before it was taken) is not the end; the stop is.</summary>
    private async Task AcceptAsync(TcpListener listening)
    {
        while (!stopping)
        {
            try
            {
                using var client = await listening.AcceptTcpClientAsync();
            }
            catch (Exception exception) when (exception is ObjectDisposedException or SocketException or InvalidOperationException)
            {
                if (!stopping)
                {
                    logger.LogDebug(exception, "Probe port {Port}: an accept failed.", port);
                    await Task.Delay(100); // not a spin, should the failure repeat
                }
            }
        }
    }
}
