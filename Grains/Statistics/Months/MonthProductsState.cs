using OrderFlow.Grains.Statistics.Buckets;

namespace OrderFlow.Grains.Statistics.Months;

/// <summary>
/// A month's product sales, kept as a second entity beside <see cref="MonthStatsState"/>: it grows
/// with the number of products sold (about 30 bytes each, 90 with 64-character SKUs), so it gets
/// an entity of its own; month totals rather than a copy per day, which made a month of 2,000
/// products sold a day overflow.
/// </summary>
[GenerateSerializer, Alias("orderflow.month-products-state")]
public sealed class MonthProductsState
{
    /// <summary>SKU → sales of the month.</summary>
    [Id(0)] public Dictionary<string, ProductTotals> Products { get; set; } = [];

    /// <summary>Day of month → the day's revision whose products are included.</summary>
    [Id(1)] public Dictionary<int, long> Applied { get; set; } = [];

    /// <summary>
    /// Once <see cref="Products"/> had no room for more SKUs in its entity: the sales of SKUs new
    /// to the month since, summed (not listed by product). Null while every SKU sold is listed.
    /// </summary>
    [Id(2)] public ProductTotals? Unlisted { get; set; }
}
