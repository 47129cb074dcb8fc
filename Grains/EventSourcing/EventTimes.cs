namespace OrderFlow.Grains.EventSourcing;

/// <summary>The event time of a command's events, by one rule for every aggregate.</summary>
public static class EventTimes
{
    /// <summary>
    /// As <paramref name="given"/>, else <paramref name="now"/>, but never before the aggregate's
    /// previous event (<paramref name="previous"/>, which may lie a little ahead of this server's
    /// clock: clients' clocks are allowed 5 s of skew, and so are other silos'). Kept to the
    /// millisecond so that it survives storage unchanged.
    /// </summary>
    public static DateTimeOffset Of(DateTimeOffset? given, DateTimeOffset now, DateTimeOffset? previous)
    {
        var time = Truncate(given ?? now);
        return given is null && previous is { } last && time < last ? last : time;
    }

    private static DateTimeOffset Truncate(DateTimeOffset value)
    {
        var time = value.ToUniversalTime();
        return new DateTimeOffset(time.Ticks - (time.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }
}
