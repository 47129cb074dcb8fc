using OrderFlow.Grains.Statistics;

namespace OrderFlow.Grains.Projections.Generations;

/// <summary>
/// The version of the stored layout of projection state. Statistics are derived data, so a change
/// that older state cannot be read as is not migrated in place: bump <see cref="Current"/>, and a
/// deployment whose serving generation has an older layout stops serving it and rebuilds a new
/// generation from the event log when it starts (<see cref="ProjectionControlGrain"/>), as Marten
/// does when a projection's version changes.
/// </summary>
public static class ProjectionSchema
{
    /// <summary>
    /// 1: until 2026-11-25 (months kept hourly latency sketches of 0.1 % bins and per-day products;
    /// counted events by order id). 2: the bounded layout (README "Capacity"). 3: customer grain
    /// keys hold the customer id encoded (<see cref="StatisticsKeys.Customer"/>), so a customer
    /// whose id has a '.' (or any character outside [A-Za-z0-9_-]) is stored under a new key.
    /// 4: customers keep the registration for rule new-account-large-order (<see cref="Statistics.Customers.CustomerRegistration"/>),
    /// which state of 3 lacks: the rebuild on upgrade gives it the orders of the whole history. (Until 2026-11-29 layout 4
    /// also kept up to 100 large orders there; that field is skipped when read, so such state is read as it is.)
    /// 5: state rows are keyed by <see cref="Storage.ProjectionStateKeys"/> (many grains to a partition, written by group
    /// commit) instead of one partition per grain: rows of 4 are not where this build looks, so the projection control,
    /// which still finds its own row of 4, rebuilds a new generation from the log, and the old rows go with their generation.
    /// 6: days, customers and stuck-order partitions are journaled (<see cref="Storage.IJournaledProjectionState"/>): a
    /// build of 5 would read their snapshots without the journal rows after them, and write over them, so a generation of
    /// 5 is rebuilt rather than read on, and a deployment of 6 is not rolled back to a build of 5 without a rebuild.
    /// 7: every projection's state rows share a generation's partitions (<see cref="Storage.ProjectionStateKeys"/>),
    /// so that a flush tick is a few transactions in all rather than a few per grain type; their RowKeys start with
    /// the grain type. Rows of 6 are not where this build looks: a generation of 6 is rebuilt, and its rows deleted.
    /// </summary>
    public const int Current = 7;

    /// <summary>What a stored generation written before versions were recorded is taken to be.</summary>
    public const int Unversioned = 1;
}
