using OrderFlow.Grains.Statistics.Buckets;

namespace OrderFlow.Grains.Statistics.Months;

/// <summary>
/// A month's product sales as queries read them (<see cref="IMonthStatsGrain.GetProducts"/>). Not
/// immutable, and must not be marked so: it may hold the grain's own state, which Orleans must copy
/// for a caller on the same silo, and a caller may keep it (<see cref="Queries.AllTimeProducts"/>).
/// </summary>
/// <param name="Listed">SKU → sales.</param>
/// <param name="Unlisted">The sales of SKUs the month does not list (<see cref="MonthProductsState.Unlisted"/>); null while it lists every SKU it sold.</param>
/// <param name="Version">What the month answered at (see <see cref="IMonthStatsGrain.GetProductsIfChanged"/>).</param>
[GenerateSerializer, Alias("orderflow.month-products")]
public sealed record MonthProducts(
    [property: Id(0)] Dictionary<string, ProductTotals> Listed,
    [property: Id(1)] ProductTotals? Unlisted,
    [property: Id(2)] MonthProductsVersion Version = default);
