namespace OrderFlow.Grains.Statistics.Months;

/// <remarks>
/// Bounded by construction: 31 <see cref="DayRollup"/>s of at most about 20 KiB each (every
/// latency bin of every sketch filled), measured in <c>ProjectionCapacityTests</c>.
/// </remarks>
[GenerateSerializer, Alias("orderflow.month-stats-state.v2")]
public sealed class MonthStatsState
{
    [Id(0)] public Dictionary<int, DayRollup> Days { get; set; } = [];
}
