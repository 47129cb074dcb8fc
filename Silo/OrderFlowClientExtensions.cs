using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace OrderFlow.Silo;

/// <summary>
/// The one place where an Orleans client of this system is configured (the API when
/// <c>Orleans:ApiHost</c> is <c>Client</c>): the same clustering provider, table and cluster as the
/// silos (<see cref="OrleansHostSettings"/>), so it finds the gateways in the membership table.
/// </summary>
public static class OrderFlowClientExtensions
{
    public static IClientBuilder UseOrderFlowClient(this IClientBuilder client, IConfiguration configuration)
    {
        var settings = OrleansHostSettings.From(configuration);
        switch (settings.Clustering)
        {
            case ClusteringProvider.Localhost:
                client.UseLocalhostClustering(settings.GatewayPort, settings.ServiceId, settings.ClusterId);
                break;
            case ClusteringProvider.AzureTable:
                client.Configure<ClusterOptions>(settings.ApplyTo);
                client.UseAzureStorageClustering(table => OrderFlowSiloExtensions.UseMembershipTable(table, settings, configuration));
                break;
        }

        // A grain on a silo that just died answers nothing: the request fails within this (503)
        // rather than after Orleans' 30 s, while membership declares the silo dead.
        client.Configure<ClientMessagingOptions>(messaging => messaging.ResponseTimeout = settings.ClientResponseTimeout);
        client.Configure<GatewayOptions>(gateways => gateways.GatewayListRefreshPeriod = settings.GatewayListRefreshPeriod);
        var tls = ClusterTlsSettings.From(configuration);
        var retry = new ClientConnectionRetry(tls);
        client.UseConnectionRetryFilter(retry); // gateways not up yet are waited for; a TLS refusal fails the start at once
        if (tls is not null)
        {
            client.Services.AddSingleton(tls); // its expiry is watched (the API's readiness)
            client.UseTls(options => // the silos' certificate; without it no gateway accepts this client
            {
                tls.Configure(options);
                retry.WatchGatewayCertificates(options);
            });
        }

        client.AddActivityPropagation(); // a request's trace goes on into the silos (README "Telemetry")

        if (OrderFlowSiloExtensions.DashboardEnabled(configuration))
        {
            // Served by the API from the silos' dashboard grains (the silos register them in AddOrderFlow).
            client.AddDashboard();
        }

        return client;
    }
}
