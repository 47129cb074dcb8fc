using OrderFlow.Grains.Statistics.Buckets;

namespace OrderFlow.Grains.Statistics.Days;

/// <summary>A day's bookkeeping of its pushes to the month (<see cref="DayStatsState"/>), as a journal entry carries it: not derived from the events.</summary>
[GenerateSerializer, Alias("orderflow.day-pushes")]
public sealed record DayPushes(
    [property: Id(0)] long Revision,
    [property: Id(1)] long MonthRevision,
    [property: Id(2)] Dictionary<string, ProductTotals> UnpushedProducts,
    [property: Id(3)] MonthPush? Pending);
