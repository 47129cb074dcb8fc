using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrderFlow.Api.Operations;

/// <summary>
/// How the host stops (SIGTERM, Ctrl+C): Kestrel stops accepting connections and drains the
/// requests it has taken, and only then does the co-hosted silo stop, so that those requests'
/// grain calls still work.
/// </summary>
public static class GracefulShutdown
{
    /// <summary>What the silo needs after the drain: deactivating its grains, flushing statistics, leaving the cluster.</summary>
    public static readonly TimeSpan SiloStopAllowance = TimeSpan.FromSeconds(15);

    /// <remarks>
    /// The host stops its services one after the other in reverse order of registration, and
    /// WebApplication registers Kestrel's service last: Kestrel stops first. Stopping them
    /// concurrently would stop the silo under requests still in flight. All of it shares one
    /// deadline (<see cref="HostOptions.ShutdownTimeout"/>, 30 s by default), at which Kestrel drops
    /// the requests it still holds. A request may wait on a grain for Orleans' response timeout
    /// (also 30 s by default), so the deadline is that plus the silo's own stop.
    /// </remarks>
    public static WebApplicationBuilder AddGracefulShutdown(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<SiloMessagingOptions>>((host, messaging) =>
        {
            host.ServicesStopConcurrently = false;
            var needed = messaging.Value.ResponseTimeout + SiloStopAllowance;
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });
        return builder;
    }
}
