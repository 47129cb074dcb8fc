namespace OrderFlow.Grains.Statistics.Catalog;

[GenerateSerializer, Alias("orderflow.stats-catalog-state")]
public sealed class StatsCatalogState
{
    [Id(0)] public SortedSet<string> Months { get; set; } = new(StringComparer.Ordinal);

    /// <summary>About 10 bytes a day: a century of days with alerts fits the entity.</summary>
    [Id(1)] public SortedSet<DateOnly> AlertDays { get; set; } = [];
}
