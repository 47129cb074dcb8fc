using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Days;

namespace OrderFlow.Grains.Statistics.Months;

/// <summary>
/// A day of one shard: the series figures of each hour and the whole day's bucket. Its size does
/// not grow with volume: 24 small <see cref="SeriesTotals"/> and one <see cref="StatsBucket"/>
/// whose latency sketches have at most <see cref="LatencyHistogram.MaxBins"/> bins each.
/// </summary>
/// <remarks>
/// Never changed once made (<see cref="Of"/>, <see cref="RunningDayRollup.At"/>, storage): a month
/// replaces a day's rollup, it does not change it, and queries merge rollups into totals of their
/// own. So Orleans passes it between grains of a silo without copying it (<see cref="ImmutableAttribute"/>):
/// the summary reads every day of every month shard, and copying them cost more than merging them.
/// </remarks>
[GenerateSerializer, Immutable, Alias("orderflow.day-rollup.v2")]
public sealed class DayRollup
{
    /// <summary>Hour of day (0–23) → what the time series shows of it (no latency sketches: no hourly query needs them).</summary>
    [Id(0)] public Dictionary<int, SeriesTotals> Hours { get; set; } = [];

    /// <summary>The whole day: what a summary over whole days merges.</summary>
    [Id(1)] public StatsBucket Day { get; set; } = new();

    /// <summary>The day's <see cref="DayStatsState.Revision"/> this rollup was made from.</summary>
    [Id(2)] public long Revision { get; set; }

    /// <summary>
    /// The events the day had counted when it made this rollup. A day's counts only grow, so of two
    /// copies of one day the one with more events is the newer, whatever order they arrived in.
    /// </summary>
    public long EventCount => Day.Events.Values.Sum();

    public static DayRollup Of(IReadOnlyDictionary<int, StatsBucket> minutes, long revision) => new()
    {
        Hours = minutes
            .GroupBy(pair => pair.Key / 60)
            .ToDictionary(group => group.Key, group => SeriesTotals.Of(group.Select(pair => pair.Value))),
        Day = StatsBucket.MergeAll(minutes.Values),
        Revision = revision,
    };
}
