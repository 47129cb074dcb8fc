using Microsoft.Extensions.Logging;

namespace OrderFlow.Grains.Statistics;

/// <summary>One month of one shard, day by day and hour by hour. Key: see <see cref="StatisticsKeys.Month"/>.</summary>
public interface IMonthStatsGrain : IGrainWithStringKey
{
    /// <summary>
    /// Replaces a day's rollup and adds the products the day counted since the revision the month
    /// holds. Idempotent: a push of a revision already held (or older) is ignored, so a day that
    /// does not know whether its last push landed sends it again, and a late copy changes nothing.
    /// </summary>
    /// <param name="day">Day of the month, 1-based.</param>
    /// <param name="rollup">The whole day, at <see cref="DayRollup.Revision"/>.</param>
    /// <param name="baseRevision">The revision of the day the month must hold for <paramref name="productsSince"/> to apply.</param>
    /// <param name="productsSince">Product sales the day counted after <paramref name="baseRevision"/>.</param>
    /// <exception cref="MonthOutOfStepException">The month holds a revision older than the push but other than its base: the day and its month are out of step (a repair from the log has been requested).</exception>
    Task SetDay(int day, DayRollup rollup, long baseRevision, Dictionary<string, ProductTotals> productsSince);

    /// <summary>The rollups of days [fromDay, toDay) of the month (1-based).</summary>
    Task<Dictionary<int, DayRollup>> GetDays(int fromDay, int toDay);

    /// <summary>Product sales of the month (paid orders, by payment time).</summary>
    Task<Dictionary<string, ProductTotals>> GetProducts();

    /// <summary>The revision of the day's rollup held here (0 if none): the day grain's revision when it sent it.</summary>
    Task<long> RevisionOf(int day);
}

/// <summary>
/// A day of one shard: the series figures of each hour and the whole day's bucket. Its size does
/// not grow with volume: 24 small <see cref="SeriesTotals"/> and one <see cref="StatsBucket"/>
/// whose latency sketches have at most <see cref="LatencyHistogram.MaxBins"/> bins each.
/// </summary>
[GenerateSerializer, Alias("orderflow.day-rollup.v2")]
public sealed class DayRollup
{
    /// <summary>Hour of day (0–23) → what the time series shows of it (no latency sketches: no hourly query needs them).</summary>
    [Id(0)] public Dictionary<int, SeriesTotals> Hours { get; set; } = [];

    /// <summary>The whole day: what a summary over whole days merges.</summary>
    [Id(1)] public StatsBucket Day { get; set; } = new();

    /// <summary>The day's <see cref="DayStatsState.Revision"/> this rollup was made from.</summary>
    [Id(2)] public long Revision { get; set; }

    public static DayRollup Of(IReadOnlyDictionary<int, StatsBucket> minutes, long revision) => new()
    {
        Hours = minutes
            .GroupBy(pair => pair.Key / 60)
            .ToDictionary(group => group.Key, group => SeriesTotals.Of(group.Select(pair => pair.Value))),
        Day = StatsBucket.MergeAll(minutes.Values),
        Revision = revision,
    };
}

/// <remarks>
/// Bounded by construction: 31 <see cref="DayRollup"/>s of at most about 20 KiB each (every
/// latency bin of every sketch filled), measured in <c>ProjectionCapacityTests</c>.
/// </remarks>
[GenerateSerializer, Alias("orderflow.month-stats-state.v2")]
public sealed class MonthStatsState
{
    [Id(0)] public Dictionary<int, DayRollup> Days { get; set; } = [];
}

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
}

/// <remarks>
/// A push writes the day's rollup first (a replacement, harmless to repeat), then the product
/// increment (guarded by <see cref="MonthProductsState.Applied"/>), and <see cref="RevisionOf"/>
/// answers from the latter: a push cut short between the two is reported as not landed, sent
/// again, and completes.
/// </remarks>
[GrainType(ProjectionGrainTypes.Month)]
public sealed class MonthStatsGrain(
    [PersistentState("month", StatisticsOptions.StorageName)] IPersistentState<MonthStatsState> state,
    [PersistentState("products", StatisticsOptions.StorageName)] IPersistentState<MonthProductsState> products,
    ILogger<MonthStatsGrain> logger) : Grain, IMonthStatsGrain
{
    private bool registered;

    /// <summary>A repair has been requested by this activation (once is enough: it replaces the whole generation).</summary>
    private bool repairRequested;

    public async Task SetDay(int day, DayRollup rollup, long baseRevision, Dictionary<string, ProductTotals> productsSince)
    {
        var applied = products.State.Applied.GetValueOrDefault(day);
        if (rollup.Revision <= applied)
        {
            return; // a repeat, or a late copy of a push the day has sent again since
        }

        if (applied != baseRevision)
        {
            var message = $"Month {this.GetPrimaryKeyString()} holds revision {applied} of day {day}; a push from revision {baseRevision} to {rollup.Revision} does not follow it.";
            if (!repairRequested)
            {
                logger.LogError("{Message} The projections are re-derived from the event log.", message);
                await GrainFactory.GetGrain<IProjectionControl>(0).RequestRepair(message);
                repairRequested = true;
            }

            throw new MonthOutOfStepException(message);
        }

        // First, so that a failure here leaves the push to be sent again: the day's retry would
        // find the push landed and not send it again if registering came after the writes.
        if (!registered)
        {
            var (generation, _, month) = StatisticsKeys.ParseSharded(this.GetPrimaryKeyString());
            await GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)).Register(month);
            registered = true;
        }

        try
        {
            if (!state.State.Days.TryGetValue(day, out var held) || held.Revision < rollup.Revision)
            {
                state.State.Days[day] = rollup;
                await state.WriteOwnStateAsync();
            }

            ProductTotals.Merge(products.State.Products, productsSince);
            products.State.Applied[day] = rollup.Revision;
            await products.WriteOwnStateAsync();
        }
        catch
        {
            // The state in memory may now hold what storage does not (RevisionOf would report the
            // push as landed): only a new activation, reading storage, can say what landed.
            DeactivateOnIdle();
            throw;
        }
    }

    public Task<long> RevisionOf(int day) => Task.FromResult(products.State.Applied.GetValueOrDefault(day));

    public Task<Dictionary<int, DayRollup>> GetDays(int fromDay, int toDay) =>
        Task.FromResult(state.State.Days
            .Where(pair => pair.Key >= fromDay && pair.Key < toDay)
            .ToDictionary(pair => pair.Key, pair => pair.Value));

    public Task<Dictionary<string, ProductTotals>> GetProducts() => Task.FromResult(products.State.Products);
}
