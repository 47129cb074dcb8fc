using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;

namespace OrderFlow.Silo;

/// <summary>
/// The <c>Orleans</c> section as silos and the API's client read it (README "Cluster mode"): which
/// membership provider, which cluster, which ports and address. Silos and clients of one cluster
/// must agree on the provider, its table, the service id and the cluster id.
/// </summary>
public sealed record OrleansHostSettings
{
    public const string Section = "Orleans";

    /// <summary>Name of the connection string of the membership table; the tables' one when unset.</summary>
    public const string ClusteringConnectionName = "Clustering";

    public ClusteringProvider Clustering { get; init; } = ClusteringProvider.Localhost;

    public string ClusteringTable { get; init; } = "OrleansSiloInstances";

    public string ServiceId { get; init; } = "orderflow";

    public string ClusterId { get; init; } = "orderflow-dev";

    public int SiloPort { get; init; } = EndpointOptions.DEFAULT_SILO_PORT;

    public int GatewayPort { get; init; } = EndpointOptions.DEFAULT_GATEWAY_PORT;

    /// <summary>A port that accepts connections only while the silo is active (<see cref="ActiveSiloProbe"/>), for a platform's probes; none when unset.</summary>
    public int? ProbePort { get; init; }

    /// <summary>The address other silos and clients reach this silo on; see <see cref="ResolveAdvertisedAddress"/>.</summary>
    public string? AdvertisedAddress { get; init; }

    public ApiHostShape ApiHost { get; init; } = ApiHostShape.CoHosted;

    /// <summary>How long the API's client waits for a grain's answer: a grain on a dead silo makes a request fail with 503 within this, not hang for Orleans' 30 s.</summary>
    public TimeSpan ClientResponseTimeout { get; init; } = TimeSpan.FromSeconds(7);

    /// <summary>How often the API's client rereads the gateways from the membership table (a silo started later is used from then on).</summary>
    public TimeSpan GatewayListRefreshPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Reads the section; an unknown provider or host shape fails at start, naming the key.</summary>
    public static OrleansHostSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var defaults = new OrleansHostSettings();
        return new OrleansHostSettings
        {
            Clustering = ParseEnum(section, nameof(Clustering), defaults.Clustering),
            ClusteringTable = section[nameof(ClusteringTable)] is { Length: > 0 } table ? table : defaults.ClusteringTable,
            ServiceId = section[nameof(ServiceId)] is { Length: > 0 } service ? service : defaults.ServiceId,
            ClusterId = section[nameof(ClusterId)] is { Length: > 0 } cluster ? cluster : defaults.ClusterId,
            SiloPort = section.GetValue(nameof(SiloPort), defaults.SiloPort),
            GatewayPort = section.GetValue(nameof(GatewayPort), defaults.GatewayPort),
            ProbePort = section.GetValue<int?>(nameof(ProbePort)),
            AdvertisedAddress = section[nameof(AdvertisedAddress)] is { Length: > 0 } address ? address : null,
            ApiHost = ParseEnum(section, nameof(ApiHost), defaults.ApiHost),
            ClientResponseTimeout = section.GetValue(nameof(ClientResponseTimeout), defaults.ClientResponseTimeout),
            GatewayListRefreshPeriod = section.GetValue(nameof(GatewayListRefreshPeriod), defaults.GatewayListRefreshPeriod),
        }.Checked();
    }

    /// <summary>
    /// The settings, or an error naming the key when the probe port is no port or one of the silo's
    /// own, or a time is not positive (a zero wait would fail every grain call with 503).
    /// </summary>
    private OrleansHostSettings Checked()
    {
        if (ProbePort is { } probe && (probe is < 1 or > 65535 || probe == SiloPort || probe == GatewayPort))
        {
            throw new InvalidOperationException($"{Section}:{nameof(ProbePort)} is {probe}; it must be a TCP port (1 to 65535) other than the silo port ({SiloPort}) and the gateway port ({GatewayPort}).");
        }

        foreach (var (key, time) in new[] { (nameof(ClientResponseTimeout), ClientResponseTimeout), (nameof(GatewayListRefreshPeriod), GatewayListRefreshPeriod) })
        {
            if (time <= TimeSpan.Zero)
            {
                throw new InvalidOperationException($"{Section}:{key} is {time:c}; it must be a positive time (for example 00:00:07).");
            }
        }

        return this;
    }

    /// <summary>The cluster identity silos and clients of one cluster share.</summary>
    public void ApplyTo(ClusterOptions cluster)
    {
        cluster.ServiceId = ServiceId;
        cluster.ClusterId = ClusterId;
    }

    /// <summary>
    /// The configured address; unset, loopback for localhost clustering, and for a membership table
    /// the machine's first non-loopback IPv4 address that is up (a container's own address).
    /// </summary>
    public IPAddress ResolveAdvertisedAddress()
    {
        if (AdvertisedAddress is not null)
        {
            return IPAddress.TryParse(AdvertisedAddress, out var parsed)
                ? parsed
                : Dns.GetHostAddresses(AdvertisedAddress).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        }

        if (Clustering == ClusteringProvider.Localhost)
        {
            return IPAddress.Loopback;
        }

        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address))
            ?? IPAddress.Loopback;
    }

    private static TEnum ParseEnum<TEnum>(IConfiguration section, string key, TEnum fallback)
        where TEnum : struct, Enum
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return Enum.TryParse<TEnum>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new InvalidOperationException($"{Section}:{key} is '{value}'; it must be one of: {string.Join(", ", Enum.GetNames<TEnum>())}.");
    }
}
