using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Days;

/// <summary>
/// The <see cref="DayRollup"/> of a day's minute buckets, kept as events are counted into them: a
/// bucket per hour and one for the whole day, each adding every event its minutes get. Buckets
/// merge exactly, so this equals <see cref="DayRollup.Of"/> of the minutes; a day sends its rollup
/// after every live batch, and merging all its minutes again each time cost more than the counting.
/// </summary>
public sealed class RunningDayRollup
{
    /// <summary>Hour of day → its minutes merged.</summary>
    private readonly Dictionary<int, StatsBucket> hours = [];

    private readonly StatsBucket day = new();

    public static RunningDayRollup Of(IReadOnlyDictionary<int, StatsBucket> minutes)
    {
        var running = new RunningDayRollup();
        foreach (var (minute, bucket) in minutes)
        {
            running.HourOf(minute).Merge(bucket);
            running.day.Merge(bucket);
        }

        return running;
    }

    /// <summary>Adds an event just counted into the bucket of <paramref name="minute"/>.</summary>
    public void Add(int minute, OrderEventEnvelope envelope)
    {
        HourOf(minute).Add(envelope);
        day.Add(envelope);
    }

    /// <summary>The rollup now, made from the day's <paramref name="revision"/>: a copy, which later counts leave as it is.</summary>
    public DayRollup At(long revision) => new()
    {
        Hours = hours.ToDictionary(pair => pair.Key, pair => SeriesTotals.Of([pair.Value])),
        Day = new StatsBucket().Merge(day),
        Revision = revision,
    };

    /// <summary>The hour's bucket, as <see cref="DayRollup.Of"/> groups minutes into hours.</summary>
    private StatsBucket HourOf(int minute)
    {
        if (!hours.TryGetValue(minute / 60, out var bucket))
        {
            hours[minute / 60] = bucket = new StatsBucket();
        }

        return bucket;
    }
}
