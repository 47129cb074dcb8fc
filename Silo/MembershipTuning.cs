using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace OrderFlow.Silo;

/// <summary>
/// How fast the cluster notices a dead silo (README "Cluster mode"): Orleans' defaults take about
/// half a minute or more; a request whose grain was on the dead silo must answer within 10 s.
/// Each figure can be overridden under <c>Orleans:Membership</c> (the names of
/// <see cref="ClusterMembershipOptions"/>).
/// </summary>
public static class MembershipTuning
{
    public const string Section = "Orleans:Membership";

    /// <summary>Probe each silo every second or so (Orleans adapts it between half and four times this on a slow network).</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Three missed probes in a row make a suspect: one lost to a pause is not enough.</summary>
    public const int NumMissedProbesLimit = 3;

    /// <summary>Two silos must agree (Orleans asks for fewer when fewer are active), so one silo with a problem of its own cannot evict a healthy one.</summary>
    public const int NumVotesForDeathDeclaration = 2;

    /// <summary>A silo writes its heartbeat to the table this often; one silent for three of these is stale and is not probed as a witness (the table's gateway list still hands it to clients until it is declared dead).</summary>
    public static readonly TimeSpan IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Every silo rereads the table this often even when gossip says nothing (gossip usually carries changes at once).</summary>
    public static readonly TimeSpan TableRefreshTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Rows of dead silos (each restart leaves one) are removed after this long.</summary>
    public static readonly TimeSpan DefunctSiloExpiration = TimeSpan.FromHours(1);

    public static void Configure(IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ClusterMembershipOptions>(options =>
        {
            options.ProbeTimeout = ProbeTimeout;
            options.NumMissedProbesLimit = NumMissedProbesLimit;
            options.NumVotesForDeathDeclaration = NumVotesForDeathDeclaration;
            options.IAmAliveTablePublishTimeout = IAmAliveTablePublishTimeout;
            options.TableRefreshTimeout = TableRefreshTimeout;
            options.DefunctSiloExpiration = DefunctSiloExpiration;
        });
        services.Configure<ClusterMembershipOptions>(configuration.GetSection(Section));
    }
}
