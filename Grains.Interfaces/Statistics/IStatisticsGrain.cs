namespace OrderFlow.Statistics;

/// <summary>
/// Reads the statistics projections: merges the sharded, time-bucketed grains that consume the
/// order event stream. Ranges are by event time, From inclusive, To exclusive, of any alignment:
/// both ends are rounded up to the minute (<see cref="StatsRange"/>), the resolution kept.
/// </summary>
[Alias("orderflow.statistics")]
public interface IStatisticsGrain : IGrainWithIntegerKey
{
    /// <summary>Totals within [from, to); all time when both are null.</summary>
    [Alias("summary")]
    Task<SummaryReport> Summary(DateTimeOffset? from, DateTimeOffset? to);

    /// <summary>The UTC buckets of <paramref name="interval"/> overlapping [from, to); the edge buckets count only the part covered.</summary>
    [Alias("timeseries")]
    Task<TimeSeriesReport> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval);

    /// <summary>The best-selling products of all time, by revenue or by quantity, and the sales of products no longer listed.</summary>
    [Alias("top-products")]
    Task<ProductsReport> TopProducts(int top, bool byQuantity);

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
