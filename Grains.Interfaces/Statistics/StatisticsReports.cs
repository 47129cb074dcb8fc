using OrderFlow.Orders;

namespace OrderFlow.Statistics;

/// <summary>
/// Percentiles of one stage's latency, in seconds as exact decimals to the millisecond (null when no
/// order passed the stage in the range): the API answers decimals, never floating-point numbers.
/// </summary>
[GenerateSerializer, Immutable, Alias("orderflow.latency-percentiles")]
public sealed record LatencyPercentiles(
    [property: Id(0)] decimal? P50,
    [property: Id(1)] decimal? P95,
    [property: Id(2)] decimal? P99,
    [property: Id(3)] long Count);

/// <summary>Money of one currency within a range.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.currency-totals")]
public sealed record CurrencyTotals(
    [property: Id(0)] decimal Revenue,
    [property: Id(1)] decimal Refunds,
    [property: Id(2)] decimal NetRevenue,
    [property: Id(3)] long Payments,
    [property: Id(4)] decimal? AverageOrderValue);

/// <summary>
/// GET /api/stats/summary: everything that happened within [From, To) by event time; From and To are
/// the effective range (rounded up to the minute, see <see cref="StatsRange"/>), null for no bound.
/// Funnel ratios are decimals to four places (null where nothing entered the earlier status).
/// </summary>
[GenerateSerializer, Immutable, Alias("orderflow.summary-report")]
public sealed record SummaryReport(
    [property: Id(0)] DateTimeOffset? From,
    [property: Id(1)] DateTimeOffset? To,
    [property: Id(2)] IReadOnlyDictionary<string, long> Events,
    [property: Id(3)] IReadOnlyDictionary<string, long> Orders,
    [property: Id(4)] decimal Revenue,
    [property: Id(5)] decimal Refunds,
    [property: Id(6)] decimal NetRevenue,
    [property: Id(7)] decimal? AverageOrderValue,
    [property: Id(8)] IReadOnlyDictionary<string, decimal?> Funnel,
    [property: Id(9)] IReadOnlyDictionary<string, LatencyPercentiles> Latency,
    [property: Id(10)] IReadOnlyDictionary<string, CurrencyTotals> ByCurrency);

/// <summary>
/// One bucket of GET /api/stats/timeseries, [Start, Start + interval) in UTC. A bucket the range
/// covers only in part is <see cref="Partial"/> and counts only [From, To), the part covered; for a
/// whole bucket From is Start and To its end.
/// </summary>
[GenerateSerializer, Immutable, Alias("orderflow.timeseries-bucket")]
public sealed record TimeSeriesBucket(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] long Placed,
    [property: Id(2)] long Paid,
    [property: Id(3)] long Shipped,
    [property: Id(4)] long Delivered,
    [property: Id(5)] long Cancelled,
    [property: Id(6)] long Refunded,
    [property: Id(7)] decimal Revenue,
    [property: Id(8)] decimal Refunds,
    [property: Id(9)] bool Partial,
    [property: Id(10)] DateTimeOffset From,
    [property: Id(11)] DateTimeOffset To);

/// <summary>The intervals a time series can be cut into.</summary>
[GenerateSerializer, Alias("orderflow.stats-interval")]
public enum StatsInterval
{
    Minute = 1,
    Hour,
    Day,
}

/// <summary>GET /api/stats/timeseries: the buckets overlapping the effective range [From, To) (rounded up to the minute).</summary>
[GenerateSerializer, Immutable, Alias("orderflow.timeseries-report")]
public sealed record TimeSeriesReport(
    [property: Id(0)] StatsInterval Interval,
    [property: Id(1)] IReadOnlyList<TimeSeriesBucket> Buckets,
    [property: Id(2)] DateTimeOffset From,
    [property: Id(3)] DateTimeOffset To);

/// <summary>A product's sales: quantity and revenue of paid orders (in the orders' currencies, not converted).</summary>
[GenerateSerializer, Immutable, Alias("orderflow.product-sales")]
public sealed record ProductSales(
    [property: Id(0)] string Sku,
    [property: Id(1)] long Quantity,
    [property: Id(2)] decimal Revenue);

/// <summary>The best-selling products, and the sales no product is named for.</summary>
/// <param name="Products">The products, best first.</param>
/// <param name="Unlisted">
/// Sales of products a month of a shard no longer lists (its list outgrew its storage entity; README
/// "Capacity"), summed over every such month: these products' figures in <paramref name="Products"/>
/// leave those sales out. Null while every month lists every product it sold.
/// </param>
[GenerateSerializer, Immutable, Alias("orderflow.products-report")]
public sealed record ProductsReport(
    [property: Id(0)] IReadOnlyList<ProductSales> Products,
    [property: Id(1)] UnlistedSales? Unlisted);

/// <summary>Quantity and revenue of paid orders' lines whose product is not named (see <see cref="ProductsReport.Unlisted"/>).</summary>
[GenerateSerializer, Immutable, Alias("orderflow.unlisted-sales")]
public sealed record UnlistedSales(
    [property: Id(0)] long Quantity,
    [property: Id(1)] decimal Revenue);

/// <summary>What a customer did, and how risky it looks.</summary>
/// <param name="RegisteredAt">When the customer registered (event time), once a customer event told the statistics; null before, or for a customer who never registered.</param>
[GenerateSerializer, Immutable, Alias("orderflow.customer-report")]
public sealed record CustomerReport(
    [property: Id(0)] string CustomerId,
    [property: Id(1)] long Orders,
    [property: Id(2)] decimal Spend,
    [property: Id(3)] long Cancellations,
    [property: Id(4)] long Refunds,
    [property: Id(5)] decimal RefundedAmount,
    [property: Id(6)] int RiskScore,
    [property: Id(7)] IReadOnlyList<string> Rules,
    [property: Id(8)] DateTimeOffset? RegisteredAt = null);

/// <summary>A risk rule fired for a customer (raised once per rule and occasion).</summary>
[GenerateSerializer, Immutable, Alias("orderflow.risk-alert")]
public sealed record RiskAlert(
    [property: Id(0)] string Id,
    [property: Id(1)] string Rule,
    [property: Id(2)] string CustomerId,
    [property: Id(3)] string OrderId,
    [property: Id(4)] DateTimeOffset RaisedAt,
    [property: Id(5)] string Detail);

/// <summary>An order that has stayed in its status since <see cref="Since"/> (event time).</summary>
[GenerateSerializer, Immutable, Alias("orderflow.stuck-order")]
public sealed record StuckOrder(
    [property: Id(0)] string OrderId,
    [property: Id(1)] OrderStatus Status,
    [property: Id(2)] DateTimeOffset Since);
