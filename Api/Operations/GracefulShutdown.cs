using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrderFlow.Silo;

namespace OrderFlow.Api.Operations;

/// <summary>
/// How the host stops (SIGTERM, Ctrl+C): first it serves on for <see cref="ShutdownDrain"/> with
/// readiness failing, then Kestrel stops accepting connections and drains the requests it has
/// taken, and only then does the co-hosted silo (or the Orleans client) stop, so that those
/// requests' grain calls still work.
/// </summary>
public static class GracefulShutdown
{
    /// <summary>What an Orleans client needs after the drain (API as a client): closing its gateway connections.</summary>
    public static readonly TimeSpan ClientStopAllowance = TimeSpan.FromSeconds(5);

    /// <remarks>
    /// The host stops its services one after the other in reverse order of registration, and
    /// WebApplication registers Kestrel's service last: Kestrel stops first. Stopping them
    /// concurrently would stop the silo under requests still in flight. All of it shares one
    /// deadline (<see cref="HostOptions.ShutdownTimeout"/>, 30 s by default), at which Kestrel drops
    /// the requests it still holds. A request may wait on a grain for Orleans' response timeout
    /// (also 30 s by default), so the deadline is the drain, that, and the silo's own stop.
    /// </remarks>
    public static WebApplicationBuilder AddGracefulShutdown(this WebApplicationBuilder builder)
    {
        var coHosted = OrleansHostSettings.From(builder.Configuration).ApiHost == ApiHostShape.CoHosted;
        var drain = ShutdownDrain.From(builder.Configuration);

        // Registered after the silo or client: the host runs the services' StoppingAsync last registered first, so the drain comes before anything stops.
        builder.Services.AddSingleton(services => new ShutdownDrain(drain, services.GetService<TimeProvider>() ?? TimeProvider.System, services.GetRequiredService<ILogger<ShutdownDrain>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<ShutdownDrain>());
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<SiloMessagingOptions>, IOptions<ClientMessagingOptions>>((host, silo, client) =>
        {
            host.ServicesStopConcurrently = false;
            // A client only closes its gateway connections; the silos stop on their own.
            var needed = drain + (coHosted ? silo.Value.ResponseTimeout + SiloApplication.SiloStopAllowance : client.Value.ResponseTimeout + ClientStopAllowance);
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });
        return builder;
    }
}
