using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrderFlow.Silo;

/// <summary>
/// Logs, once the silo is active, where it listens and which cluster it joined: the line that says
/// what runs where when several silo processes share one machine, and whether its connections use TLS.
/// </summary>
public sealed class ListeningAddressLog(
    ILocalSiloDetails silo,
    IOptions<ClusterOptions> cluster,
    IOptions<EndpointOptions> endpoints,
    ILogger<ListeningAddressLog> logger,
    ClusterTlsSettings? tls = null) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ListeningAddressLog), ServiceLifecycleStage.Active, _ =>
        {
            logger.LogInformation(
                "Silo {Silo} active in cluster {ClusterId} (service {ServiceId}): silo port {SiloPort}, gateway {Gateway}; connections: {Tls}",
                silo.SiloAddress, cluster.Value.ClusterId, cluster.Value.ServiceId, endpoints.Value.SiloPort, silo.GatewayAddress?.ToString() ?? "none",
                tls?.Describe() ?? "plain TCP (no Orleans:Tls certificate)");
            return Task.CompletedTask;
        });
}
