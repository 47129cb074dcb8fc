namespace OrderFlow.Grains.Statistics;

/// <summary>Which months have statistics (the extent of "all time") and which days have alerts.</summary>
public interface IStatsCatalogGrain : IGrainWithStringKey
{
    Task Register(string month);

    /// <summary>Months as "yyyy-MM", in order.</summary>
    Task<IReadOnlyList<string>> Months();

    Task RegisterAlertDay(DateOnly day);

    /// <summary>Days whose <see cref="AlertFeedGrain"/> has held alerts, in order.</summary>
    Task<IReadOnlyList<DateOnly>> AlertDays();
}

[GenerateSerializer, Alias("orderflow.stats-catalog-state")]
public sealed class StatsCatalogState
{
    [Id(0)] public SortedSet<string> Months { get; set; } = new(StringComparer.Ordinal);

    /// <summary>About 10 bytes a day: a century of days with alerts fits the entity.</summary>
    [Id(1)] public SortedSet<DateOnly> AlertDays { get; set; } = [];
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

    public async Task RegisterAlertDay(DateOnly day)
    {
        if (state.State.AlertDays.Add(day))
        {
            await state.WriteOwnStateAsync();
        }
    }

    public Task<IReadOnlyList<DateOnly>> AlertDays() => Task.FromResult<IReadOnlyList<DateOnly>>([.. state.State.AlertDays]);
}
