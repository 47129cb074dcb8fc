using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrderFlow.Silo;

/// <summary>
/// Builds the standalone silo host (<c>Program.cs</c>, and tests that run silos in process): the
/// same silo as the API's co-hosted one, without HTTP, configured only by configuration
/// (README "Cluster mode").
/// </summary>
public static class SiloApplication
{
    /// <summary>What a silo needs after its last grain call has answered: deactivating its grains, flushing statistics, leaving the cluster.</summary>
    public static readonly TimeSpan SiloStopAllowance = TimeSpan.FromSeconds(15);

    /// <param name="configure">Adds to the builder before the silo is configured, e.g. a test's settings.</param>
    public static IHost Build(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        configure?.Invoke(builder);
        builder.AddOrderFlowSiloTelemetry();
        builder.UseOrleans(silo => silo
            .UseOrderFlowClustering(builder.Configuration)
            .AddOrderFlow(builder.Configuration));

        // SIGTERM hands the grains over only if the host lets the silo finish: past the .NET host's
        // 30 s default, Orleans stops without handing over (projections unflushed). A call in
        // flight may take Orleans' response timeout; the stop comes after it.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<SiloMessagingOptions>>((host, messaging) =>
        {
            var needed = messaging.Value.ResponseTimeout + SiloStopAllowance;
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });
        return builder.Build();
    }
}
