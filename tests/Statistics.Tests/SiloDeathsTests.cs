using System.Collections.Immutable;
using System.Net;
using OrderFlow.Grains.Projections.Reconciliation;

namespace OrderFlow.Statistics.Tests;

/// <summary>Which silos a membership view newly shows dead (<see cref="SiloDeaths"/>): each once, whatever views were skipped.</summary>
public sealed class SiloDeathsTests
{
    private static readonly SiloAddress Self = Silo(1);
    private static readonly SiloAddress A = Silo(2);
    private static readonly SiloAddress B = Silo(3);
    private static readonly SiloAddress C = Silo(4);

    [Fact]
    public void Silos_dead_in_the_first_view_are_reported_but_never_this_one()
    {
        var deaths = new SiloDeaths(Self);

        Assert.Equal([C], deaths.Observe(View(1, (Self, SiloStatus.Active), (A, SiloStatus.Active), (C, SiloStatus.Dead))));
        Assert.Empty(deaths.Observe(View(2, (Self, SiloStatus.Dead), (A, SiloStatus.Active), (C, SiloStatus.Dead))));
    }

    [Fact]
    public void A_silo_that_joined_and_died_between_two_views_read_is_reported()
    {
        // The watch was busy reporting while B joined and died: it never saw B alive.
        var deaths = new SiloDeaths(Self);
        Assert.Empty(deaths.Observe(View(1, (Self, SiloStatus.Active), (A, SiloStatus.Active))));

        Assert.Equal([B], deaths.Observe(View(5, (Self, SiloStatus.Active), (A, SiloStatus.Active), (B, SiloStatus.Dead))));
        Assert.Empty(deaths.Observe(View(6, (Self, SiloStatus.Active), (A, SiloStatus.Active), (B, SiloStatus.Dead))));
    }

    [Fact]
    public void A_silo_that_left_the_view_without_being_seen_dead_is_reported_once()
    {
        var deaths = new SiloDeaths(Self);
        Assert.Empty(deaths.Observe(View(1, (Self, SiloStatus.Active), (A, SiloStatus.Active), (B, SiloStatus.Joining))));

        Assert.Equal([A], deaths.Observe(View(2, (Self, SiloStatus.Active), (B, SiloStatus.Active))));
        Assert.Empty(deaths.Observe(View(3, (Self, SiloStatus.Active), (B, SiloStatus.Active))));
        Assert.Equal([B], deaths.Observe(View(4, (Self, SiloStatus.Active), (B, SiloStatus.Dead))));
        Assert.Empty(deaths.Observe(View(5, (Self, SiloStatus.Active))));
    }

    private static SiloAddress Silo(int n) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11110 + n), n);

    private static ClusterMembershipSnapshot View(long version, params (SiloAddress Silo, SiloStatus Status)[] members) =>
        new(members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())), new MembershipVersion(version));
}
