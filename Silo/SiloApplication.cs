using Microsoft.Extensions.Hosting;

namespace OrderFlow.Silo;

/// <summary>
/// Builds the standalone silo host (<c>Program.cs</c>, and tests that run silos in process): the
/// same silo as the API's co-hosted one, without HTTP, configured only by configuration
/// (README "Cluster mode").
/// </summary>
public static class SiloApplication
{
    /// <param name="configure">Adds to the builder before the silo is configured, e.g. a test's settings.</param>
    public static IHost Build(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        configure?.Invoke(builder);
        builder.UseOrleans(silo => silo
            .UseOrderFlowClustering(builder.Configuration)
            .AddOrderFlow(builder.Configuration));
        return builder.Build();
    }
}
