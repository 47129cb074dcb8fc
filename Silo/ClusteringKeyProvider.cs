using Microsoft.Extensions.Configuration;
using Orleans.Providers;
using OrderFlow.Silo;

// Orleans reads the "Orleans" section itself, and takes any "Orleans:Clustering" entry for its own
// provider configuration ("Orleans:Clustering:ProviderType", "Default" when absent). Ours names the
// provider by value (README "Cluster mode"); this registration of "Default" lets Orleans accept it.
[assembly: RegisterProvider("Default", "Clustering", "Silo", typeof(ClusteringKeyProvider))]
[assembly: RegisterProvider("Default", "Clustering", "Client", typeof(ClusteringKeyProvider))]

namespace OrderFlow.Silo;

/// <summary>
/// What Orleans calls for our <c>Orleans:Clustering</c> key. It configures nothing:
/// <see cref="OrderFlowSiloExtensions.UseOrderFlowClustering"/> and
/// <see cref="OrderFlowClientExtensions.UseOrderFlowClient"/> apply the clustering, with the rest of
/// the <c>Orleans</c> section and the connection strings.
/// </summary>
internal sealed class ClusteringKeyProvider : IProviderBuilder<ISiloBuilder>, IProviderBuilder<IClientBuilder>
{
    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
    {
    }

    public void Configure(IClientBuilder builder, string? name, IConfigurationSection configurationSection)
    {
    }
}
