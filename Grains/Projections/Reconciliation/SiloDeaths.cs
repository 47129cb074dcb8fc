namespace OrderFlow.Grains.Projections.Reconciliation;

/// <summary>
/// Which silos a membership view newly shows dead, as one silo sees the views one after another
/// (<see cref="SiloDeathWatch"/>): every silo marked Dead that was not reported before, and every
/// silo seen earlier that has left the view without being seen dead. Views may be skipped (the
/// watch reads only the newest when it was busy), so a silo that joined and died between two views
/// it read is still reported: by what the later view says, not by what changed.
/// </summary>
public sealed class SiloDeaths(SiloAddress self)
{
    private readonly HashSet<SiloAddress> reported = [];
    private readonly HashSet<SiloAddress> seen = [];

    /// <summary>The silos to report after <paramref name="snapshot"/>; each silo is returned once.</summary>
    public IReadOnlyList<SiloAddress> Observe(ClusterMembershipSnapshot snapshot)
    {
        var died = snapshot.Members.Values
            .Where(member => member.Status == SiloStatus.Dead && !member.SiloAddress.Equals(self))
            .Select(member => member.SiloAddress)
            .Concat(seen.Where(silo => !snapshot.Members.ContainsKey(silo)))
            .Where(silo => !reported.Contains(silo))
            .Distinct()
            .ToList();

        reported.UnionWith(died);
        seen.IntersectWith(snapshot.Members.Keys);
        seen.UnionWith(snapshot.Members.Keys.Where(silo => !silo.Equals(self)));
        return died;
    }
}
