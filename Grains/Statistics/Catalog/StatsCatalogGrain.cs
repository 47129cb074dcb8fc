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

    /// <summary>Removes and writes; a failed write puts the entry back (the caller tries again, and would otherwise find nothing to remove).</summary>
    private async Task RemoveAsync<T>(ISet<T> entries, T entry)
    {
        if (!entries.Remove(entry))
        {
            return;
        }

        try
        {
            await state.WriteOwnStateAsync();
        }
        catch
        {
            entries.Add(entry);
            throw;
        }
    }

    /// <summary>
    /// Adds and writes; a failed write takes the entry out again. Callers register again until one
    /// succeeds, and an entry left in memory would make that retry a no-op: the catalog would answer
    /// with it until its next activation, then lack it for good (its month would vanish from every
    /// query that lists months).
    /// </summary>
    private async Task AddAsync<T>(ISet<T> entries, T entry)
    {
        if (!entries.Add(entry))
        {
            return;
        }

        try
        {
            await state.WriteOwnStateAsync();
        }
        catch
        {
            entries.Remove(entry);
            throw;
        }
    }
}
