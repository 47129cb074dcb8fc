namespace OrderFlow.Grains.Statistics;

/// <summary>Which months have statistics: the extent of "all time".</summary>
public interface IStatsCatalogGrain : IGrainWithStringKey
{
    Task Register(string month);

    /// <summary>Months as "yyyy-MM", in order.</summary>
    Task<IReadOnlyList<string>> Months();
}

[GenerateSerializer, Alias("orderflow.stats-catalog-state")]
public sealed class StatsCatalogState
{
    [Id(0)] public SortedSet<string> Months { get; set; } = new(StringComparer.Ordinal);
}

[GrainType(ProjectionGrainTypes.Catalog)]
public sealed class StatsCatalogGrain(
    [PersistentState("catalog", StatisticsOptions.StorageName)] IPersistentState<StatsCatalogState> state) : Grain, IStatsCatalogGrain
{
    public async Task Register(string month)
    {
        if (state.State.Months.Add(month))
        {
            await state.WriteOwnStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> Months() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Months]);
}
