namespace OrderFlow.Statistics;

/// <summary>
/// The one rule for ranges of the statistics, which are kept per minute: a minute counts when its
/// start lies in [from, to), so a range takes effect as [from, to) with both ends rounded up to the
/// minute; buckets are the intervals of UTC time (whole minutes, hours, days) that overlap it.
/// </summary>
public static class StatsRange
{
    /// <summary>The bucket count a time series gets when the caller names no start.</summary>
    public const int DefaultBuckets = 60;

    public static TimeSpan Step(StatsInterval interval) => interval switch
    {
        StatsInterval.Minute => TimeSpan.FromMinutes(1),
        StatsInterval.Hour => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    /// <summary>The start of the first minute that starts at or after <paramref name="time"/>.</summary>
    public static DateTimeOffset MinuteCeiling(DateTimeOffset time) => Ceiling(time, TimeSpan.FromMinutes(1));

    /// <summary>The start of the UTC <paramref name="interval"/> that holds <paramref name="time"/>.</summary>
    public static DateTimeOffset Floor(DateTimeOffset time, StatsInterval interval)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - ticks % Step(interval).Ticks, TimeSpan.Zero);
    }

    /// <summary>The first start of a UTC <paramref name="interval"/> at or after <paramref name="time"/>.</summary>
    public static DateTimeOffset Ceiling(DateTimeOffset time, StatsInterval interval) => Ceiling(time, Step(interval));

    /// <summary>How many buckets of <paramref name="interval"/> overlap the effective range [from, to) (both whole minutes).</summary>
    public static long BucketCount(DateTimeOffset from, DateTimeOffset to, StatsInterval interval) =>
        from >= to ? 0 : (Ceiling(to, interval) - Floor(from, interval)).Ticks / Step(interval).Ticks;

    /// <summary>
    /// The start a time series takes when none is named: <see cref="DefaultBuckets"/> buckets that end
    /// with the one holding the last minute before <paramref name="to"/> (a whole minute), not before
    /// <paramref name="earliest"/>.
    /// </summary>
    public static DateTimeOffset DefaultFrom(DateTimeOffset to, StatsInterval interval, DateTimeOffset earliest)
    {
        var lastMinute = to - TimeSpan.FromMinutes(1);
        if (lastMinute < earliest)
        {
            return earliest;
        }

        var from = Floor(lastMinute, interval) - (DefaultBuckets - 1) * Step(interval);
        return from < earliest ? earliest : from;
    }

    private static DateTimeOffset Ceiling(DateTimeOffset time, TimeSpan step)
    {
        var ticks = time.UtcTicks;
        var rest = ticks % step.Ticks;
        return new DateTimeOffset(rest == 0 ? ticks : ticks - rest + step.Ticks, TimeSpan.Zero);
    }
}
