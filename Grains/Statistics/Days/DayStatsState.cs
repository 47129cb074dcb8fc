using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Buckets;

namespace OrderFlow.Grains.Statistics.Days;

[GenerateSerializer, Alias("orderflow.day-stats-state.v2")]
public sealed class DayStatsState
{
    /// <summary>Minute of day → bucket; only minutes with events.</summary>
    [Id(0)] public Dictionary<int, StatsBucket> Minutes { get; set; } = [];

    [Id(1)] public CountedEvents Counted { get; set; } = new();

    /// <summary>Incremented by every push to the month; the month's rollup carries the revision it was made from.</summary>
    [Id(2)] public long Revision { get; set; }

    /// <summary>The revision of this day the month is known to hold.</summary>
    [Id(3)] public long MonthRevision { get; set; }

    /// <summary>SKU → sales of orders paid this day, counted since the last push to the month was made.</summary>
    [Id(4)] public Dictionary<string, ProductTotals> UnpushedProducts { get; set; } = [];

    /// <summary>A push to the month that may or may not have landed; resolved before the next one.</summary>
    [Id(5)] public MonthPush? Pending { get; set; }
}
