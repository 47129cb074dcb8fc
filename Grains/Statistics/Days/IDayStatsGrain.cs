using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Buckets;
using Orleans.Concurrency;

namespace OrderFlow.Grains.Statistics.Days;

/// <summary>One day of one shard, minute by minute (by event time). Key: see <see cref="StatisticsKeys.Day"/>.</summary>
public interface IDayStatsGrain : IWriteBehindProjection
{
    /// <summary>Minute buckets in [fromMinute, toMinute) of the day (0–1440), keyed by minute of day.</summary>
    Task<Dictionary<int, StatsBucket>> GetMinutes(int fromMinute, int toMinute);

    /// <summary>
    /// The minute buckets of [fromMinute, toMinute) as one bucket, merged here: what a summary over
    /// part of a day needs, without each minute's figures and latency sketches crossing to the query.
    /// </summary>
    Task<Immutable<StatsBucket>> GetMinutesTotal(int fromMinute, int toMinute);
}
