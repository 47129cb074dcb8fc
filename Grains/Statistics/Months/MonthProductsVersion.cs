namespace OrderFlow.Grains.Statistics.Months;

/// <summary>
/// Which answer of a month's <see cref="IMonthStatsGrain.GetProductsIfChanged"/> a caller holds:
/// the month's activation and the count of its changes to what it answers. Another activation
/// (after a deactivation or a silo's death) numbers its changes anew, so it never matches.
/// </summary>
[GenerateSerializer, Immutable, Alias("orderflow.month-products-version")]
public readonly record struct MonthProductsVersion(
    [property: Id(0)] Guid Activation,
    [property: Id(1)] long Change);
