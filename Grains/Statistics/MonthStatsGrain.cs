namespace OrderFlow.Grains.Statistics;

/// <summary>One month of one shard, day by day and hour by hour. Key: see <see cref="StatisticsKeys.Month"/>.</summary>
public interface IMonthStatsGrain : IGrainWithStringKey
{
    /// <summary>Replaces a day's rollup (idempotent: the day grain always sends the whole day).</summary>
    Task SetDay(int day, DayRollup rollup);

    /// <summary>The rollups of days [fromDay, toDay) of the month (1-based).</summary>
    Task<Dictionary<int, DayRollup>> GetDays(int fromDay, int toDay);

    /// <summary>The revision of the day's rollup held here (0 if none): the day grain's revision when it sent it.</summary>
    Task<long> RevisionOf(int day);
}

/// <summary>A day of one shard, by hour, and its product sales.</summary>
[GenerateSerializer, Alias("orderflow.day-rollup")]
public sealed class DayRollup
{
    /// <summary>Hour of day (0–23) → bucket.</summary>
    [Id(0)] public Dictionary<int, StatsBucket> Hours { get; set; } = [];

    [Id(1)] public Dictionary<string, ProductTotals> Products { get; set; } = [];

    /// <summary>The day's <see cref="DayStatsState.Revision"/> this rollup was made from.</summary>
    [Id(2)] public long Revision { get; set; }
}

[GenerateSerializer, Alias("orderflow.month-stats-state")]
public sealed class MonthStatsState
{
    [Id(0)] public Dictionary<int, DayRollup> Days { get; set; } = [];
}

[GrainType(ProjectionGrainTypes.Month)]
public sealed class MonthStatsGrain(
    [PersistentState("month", StatisticsOptions.StorageName)] IPersistentState<MonthStatsState> state) : Grain, IMonthStatsGrain
{
    private bool registered;

    public async Task SetDay(int day, DayRollup rollup)
    {
        state.State.Days[day] = rollup;
        await state.WriteOwnStateAsync();
        if (!registered)
        {
            var (generation, _, month) = StatisticsKeys.ParseSharded(this.GetPrimaryKeyString());
            await GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)).Register(month);
            registered = true;
        }
    }

    public Task<long> RevisionOf(int day) => Task.FromResult(state.State.Days.TryGetValue(day, out var rollup) ? rollup.Revision : 0);

    public Task<Dictionary<int, DayRollup>> GetDays(int fromDay, int toDay) =>
        Task.FromResult(state.State.Days
            .Where(pair => pair.Key >= fromDay && pair.Key < toDay)
            .ToDictionary(pair => pair.Key, pair => pair.Value));
}
