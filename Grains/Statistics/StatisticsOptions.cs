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
    /// How often a time-bucket grain persists what it counted and pushes its day's rollup to the
    /// month level; also the longest a crashed silo can take uncounted with it (the rebuild repairs that).
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a closed order is remembered by the stuck-orders projection to recognise late
    /// duplicates of its events; longer than any stream redelivery.
    /// </summary>
    public TimeSpan ClosedOrderMemory { get; set; } = TimeSpan.FromDays(7);

    public RiskOptions Risk { get; set; } = new();
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
}
