namespace OrderFlow.Grains.Statistics;

/// <summary>Configuration section <c>Statistics</c>.</summary>
public sealed class StatisticsOptions
{
    public const string Section = "Statistics";

    /// <summary>The grain storage provider (Azure Table) that keeps projection state.</summary>
    public const string StorageName = "statistics";

    /// <summary>Table of the projections' grain state.</summary>
    public string TableName { get; set; } = "statistics";

    /// <summary>
    /// How often a projection grain (a day, a customer, a stuck-orders partition) persists what it
    /// counted; days also push their rollup to the month level, customers their alerts to the
    /// feed. What a crashed silo had not persisted is counted again by the reconciliation.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a closed order is remembered by the stuck-orders projection to recognise late
    /// duplicates of its events; longer than any stream redelivery.
    /// </summary>
    public TimeSpan ClosedOrderMemory { get; set; } = TimeSpan.FromDays(7);

    public RiskOptions Risk { get; set; } = new();

    public ReconciliationOptions Reconciliation { get; set; } = new();
}

/// <summary>How the projections are reconciled with the event log (section <c>Statistics:Reconciliation</c>); see <see cref="ProjectionReconcilerGrain"/>.</summary>
public sealed class ReconciliationOptions
{
    /// <summary>Whether silos run the reconciliation on their own, every <see cref="Interval"/>.</summary>
    public bool Enabled { get; set; } = true;

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after a change-index bucket ends its changes are reconciled. Must exceed the
    /// longest an append can land after it was announced, plus the clock difference between
    /// silos: the writer gives up after two event-log operations (2 × 6 s by default), but a
    /// request it gave up on can still be carried out by the server until Azure's 30 s server
    /// timeout for a table operation.
    /// </summary>
    public TimeSpan Settle { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Changes dealt with per pass, so that a pass answers well within Orleans' call timeout; a full pass is followed by another at once.</summary>
    public int MaxChangesPerPass { get; set; } = 200;
}

/// <summary>Thresholds of the risk rules (configuration section <c>Statistics:Risk</c>).</summary>
public sealed class RiskOptions
{
    /// <summary>Velocity: more than this many orders placed by one customer…</summary>
    public int VelocityMaxOrders { get; set; } = 5;

    /// <summary>…within this much event time raises an alert.</summary>
    public TimeSpan VelocityWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Large order: a total above this multiple of the customer's average earlier order…</summary>
    public decimal LargeOrderFactor { get; set; } = 5m;

    /// <summary>…once the customer has at least this many earlier orders.</summary>
    public int LargeOrderMinHistory { get; set; } = 3;

    /// <summary>Cancel/refund ratio: cancelled plus fully refunded orders over all orders at or above this…</summary>
    public double CancelRefundRatio { get; set; } = 0.5;

    /// <summary>…once the customer has at least this many orders.</summary>
    public int CancelRefundMinOrders { get; set; } = 4;

    /// <summary>New account, large order: an order whose total is over this…</summary>
    public decimal NewAccountLargeOrderAmount { get; set; } = 1_000m;

    /// <summary>…placed (event time) at most this long after the customer registered raises an alert.</summary>
    public TimeSpan NewAccountWindow { get; set; } = TimeSpan.FromDays(1);
}
