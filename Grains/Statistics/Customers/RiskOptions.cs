namespace OrderFlow.Grains.Statistics.Customers;

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
