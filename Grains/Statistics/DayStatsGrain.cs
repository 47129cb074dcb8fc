using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>One day of one shard, minute by minute (by event time). Key: see <see cref="StatisticsKeys.Day"/>.</summary>
public interface IDayStatsGrain : IWriteBehindProjection
{
    /// <summary>Minute buckets in [fromMinute, toMinute) of the day (0–1440), keyed by minute of day.</summary>
    Task<Dictionary<int, StatsBucket>> GetMinutes(int fromMinute, int toMinute);
}

[GenerateSerializer, Alias("orderflow.day-stats-state")]
public sealed class DayStatsState
{
    /// <summary>Minute of day → bucket; only minutes with events.</summary>
    [Id(0)] public Dictionary<int, StatsBucket> Minutes { get; set; } = [];

    /// <summary>SKU → sales of the orders paid this day.</summary>
    [Id(1)] public Dictionary<string, ProductTotals> Products { get; set; } = [];

    [Id(2)] public CountedEvents Counted { get; set; } = new();

    /// <summary>Incremented by every write; the month's rollup carries the revision it was made from.</summary>
    [Id(3)] public long Revision { get; set; }
}

/// <summary>
/// Counts a day's events of one shard into minute buckets. Writes behind (<see cref="WriteBehindProjectionGrain"/>):
/// each flush persists the day and pushes its hourly rollup to its <see cref="MonthStatsGrain"/>.
/// </summary>
/// <remarks>
/// Persisting the day and pushing its rollup are two writes; a silo can die between them. So a
/// day loaded from storage asks its month which revision of it the month holds, and pushes its
/// rollup again if the month is behind: otherwise a reconciliation that finds every event already
/// counted would leave the month short for good.
/// </remarks>
[GrainType(ProjectionGrainTypes.Day)]
public sealed class DayStatsGrain(
    [PersistentState("day", StatisticsOptions.StorageName)] IPersistentState<DayStatsState> state,
    IOptions<StatisticsOptions> options,
    UnflushedProjections unflushed,
    ILogger<DayStatsGrain> logger) : WriteBehindProjectionGrain(unflushed, options, logger), IDayStatsGrain
{
    /// <summary>Counted since the last write (a flush may also only have the rollup to push).</summary>
    private bool stateChanged;

    private int generation;
    private int shard;
    private DateOnly day;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (generation, shard, var rest) = StatisticsKeys.ParseSharded(this.GetPrimaryKeyString());
        day = DateOnly.ParseExact(rest, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await base.OnActivateAsync(cancellationToken);
        if (state.State.Revision > 0 && await Month().RevisionOf(day.Day) < state.State.Revision)
        {
            Changed(); // the rollup only
        }
    }

    public override Task Ingest(OrderEventEnvelope envelope)
    {
        if (!state.State.Counted.TryMark(envelope.OrderId, envelope.Version))
        {
            return Task.CompletedTask;
        }

        var minute = (int)(envelope.OccurredAt.UtcDateTime - day.ToDateTime(TimeOnly.MinValue)).TotalMinutes;
        if (!state.State.Minutes.TryGetValue(minute, out var bucket))
        {
            state.State.Minutes[minute] = bucket = new StatsBucket();
        }

        bucket.Add(envelope);
        if (envelope.Type == nameof(OrderPaid))
        {
            ProductTotals.AddPaid(state.State.Products, envelope);
        }

        stateChanged = true;
        Changed();
        return Task.CompletedTask;
    }


    public Task<Dictionary<int, StatsBucket>> GetMinutes(int fromMinute, int toMinute) =>
        Task.FromResult(state.State.Minutes
            .Where(pair => pair.Key >= fromMinute && pair.Key < toMinute)
            .ToDictionary(pair => pair.Key, pair => pair.Value));

    private IMonthStatsGrain Month() => GrainFactory.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, shard, day.Year, day.Month));

    protected override async Task PersistAsync(CancellationToken cancellationToken)
    {
        if (stateChanged)
        {
            state.State.Revision++;
            await state.WriteOwnStateAsync(cancellationToken);
            stateChanged = false;
        }

        var rollup = new DayRollup
        {
            Hours = state.State.Minutes
                .GroupBy(pair => pair.Key / 60)
                .ToDictionary(group => group.Key, group => StatsBucket.MergeAll(group.Select(pair => pair.Value))),
            Products = state.State.Products,
            Revision = state.State.Revision,
        };
        await Month().SetDay(day.Day, rollup);
    }
}
