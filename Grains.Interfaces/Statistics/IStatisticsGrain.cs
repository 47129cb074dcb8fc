namespace OrderFlow.Statistics;

/// <summary>
/// Reads the statistics projections: merges the sharded, time-bucketed grains that consume the
/// order event stream. Ranges are by event time, From inclusive, To exclusive, on whole minutes (UTC).
/// </summary>
[Alias("orderflow.statistics")]
public interface IStatisticsGrain : IGrainWithIntegerKey
{
    /// <summary>Totals within [from, to); all time when both are null.</summary>
    [Alias("summary")]
    Task<SummaryReport> Summary(DateTimeOffset? from, DateTimeOffset? to);

    /// <summary>Buckets of <paramref name="interval"/> covering [from, to); from and to lie on interval boundaries.</summary>
    [Alias("timeseries")]
    Task<TimeSeriesReport> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval);

    /// <summary>The best-selling products of all time, by revenue or by quantity.</summary>
    [Alias("top-products")]
    Task<IReadOnlyList<ProductSales>> TopProducts(int top, bool byQuantity);

    /// <summary>A customer's totals and risk, or null when no order of theirs was seen.</summary>
    [Alias("customer")]
    Task<CustomerReport?> Customer(string customerId);

    /// <summary>Risk alerts raised at or after <paramref name="since"/>, oldest first.</summary>
    [Alias("alerts")]
    Task<IReadOnlyList<RiskAlert>> Alerts(DateTimeOffset? since, int limit);

    /// <summary>Orders that have been in <paramref name="status"/> for at least <paramref name="olderThan"/>, longest first.</summary>
    [Alias("stuck")]
    Task<IReadOnlyList<StuckOrder>> Stuck(Orders.OrderStatus status, TimeSpan olderThan, int limit);
}
