using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Projections;

namespace OrderFlow.Grains.Statistics.Catalog;

[GrainType(ProjectionGrainTypes.Catalog)]
public sealed class StatsCatalogGrain(
    [PersistentState("catalog", StatisticsOptions.StorageName)] IPersistentState<StatsCatalogState> state) : Grain, IStatsCatalogGrain
{
    /// <summary>Fed by months and alert feeds, not by streams.</summary>
    public static readonly ProjectionDefinition Projection = ProjectionDefinition.Of(ProjectionGrainTypes.Catalog);

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
