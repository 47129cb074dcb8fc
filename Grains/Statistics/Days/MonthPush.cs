using OrderFlow.Grains.Statistics.Buckets;

namespace OrderFlow.Grains.Statistics.Days;

/// <summary>What a day sent its month: revision <see cref="Revision"/>, with the products counted since <see cref="BaseRevision"/>.</summary>
[GenerateSerializer, Alias("orderflow.month-push")]
public sealed record MonthPush(
    [property: Id(0)] long BaseRevision,
    [property: Id(1)] long Revision,
    [property: Id(2)] Dictionary<string, ProductTotals> Products);
