using OrderFlow.Grains.Projections.Reconciliation;
using OrderFlow.Grains.Statistics.Customers;

namespace OrderFlow.Grains.Statistics;

/// <summary>Configuration section <c>Statistics</c>.</summary>
public sealed class StatisticsOptions
{
    public const string Section = "Statistics";

    /// <summary>The grain storage provider that keeps projection state (<see cref="Projections.Storage.StatisticsGrainStorage"/>).</summary>
    public const string StorageName = "statistics";

    /// <summary>Table of the projections' grain state (<see cref="Projections.Storage.StatisticsGrainStorage"/>).</summary>
    public string TableName { get; set; } = "statistics";

    /// <summary>
    /// How often a projection grain (a day, a customer, a stuck-orders partition) persists what it
    /// counted; days also push their rollup to the month level, customers their alerts to the
    /// feed. What a crashed silo had not persisted is counted again by the reconciliation.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The first state write to an idle partition of the statistics table waits until no other has
    /// joined it for this long (at most <see cref="Projections.Storage.PartitionGroupCommit.MaxLingers"/>
    /// times as long), so that a flush tick's writes go in one transaction per partition
    /// (<see cref="Projections.Storage.PartitionGroupCommit"/>); writes that arrive while a
    /// transaction is in flight join the next one whatever this is.
    /// </summary>
    public TimeSpan GroupCommitLinger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// How long a closed order is remembered by the stuck-orders projection to recognise late
    /// duplicates of its events; longer than any stream redelivery.
    /// </summary>
    public TimeSpan ClosedOrderMemory { get; set; } = TimeSpan.FromDays(7);

    public RiskOptions Risk { get; set; } = new();

    public ReconciliationOptions Reconciliation { get; set; } = new();
}
