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

    public Task Register(string month) => AddAsync(state.State.Months, month);

    public Task<IReadOnlyList<string>> Months() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Months]);

    public Task RegisterAlertDay(DateOnly day) => AddAsync(state.State.AlertDays, day);

    public Task UnregisterAlertDay(DateOnly day) => RemoveAsync(state.State.AlertDays, day);

    public Task<IReadOnlyList<DateOnly>> AlertDays() => Task.FromResult<IReadOnlyList<DateOnly>>([.. state.State.AlertDays]);


    private Task AddAsync<T>(ISet<T> entries, T entry) => WriteChangeAsync(() => entries.Add(entry), () => entries.Remove(entry));

    private Task RemoveAsync<T>(ISet<T> entries, T entry) => WriteChangeAsync(() => entries.Remove(entry), () => entries.Add(entry));

    /// <summary>
    /// Changes the entries and writes; a failed write undoes the change. Callers register (or
    /// unregister) again until one succeeds, and a change left in memory would make that retry a
    /// no-op: the catalog would answer with it until its next activation, then lack it for good
    /// (a month would vanish from every query that lists months).
    /// </summary>
    private async Task WriteChangeAsync(Func<bool> change, Action undo)
    {
        if (!change())
        {
            return;
        }

        try
        {
            await state.WriteOwnStateAsync(this);
        }
        catch
        {
            undo();
            throw;
        }
    }
}
