namespace OrderFlow.Grains.Projections.Parking;

/// <summary>How parked records are retried (section <c>Statistics:Parking</c>); see <see cref="ParkedRecordsGrain"/>.</summary>
public sealed class ParkingOptions
{
    public const string Section = "Statistics:Parking";

    /// <summary>The wait before the first retry; it doubles with every failure, up to <see cref="MaxRetry"/>.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan MaxRetry { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Consecutive failed write-behind flushes after which a live projection grain parks itself.</summary>
    public int FlushFailuresBeforeParking { get; set; } = 3;

    /// <summary>
    /// Live batches in a row a projection grain fails (each failure makes the stream deliver the
    /// batch again) after which it is parked and the stream goes on without it.
    /// </summary>
    public int DeliveryFailuresBeforeParking { get; set; } = 3;

    /// <summary>The wait after <paramref name="attempts"/> failures: doubling from <see cref="FirstRetry"/>, at most <see cref="MaxRetry"/>.</summary>
    public TimeSpan Backoff(int attempts) => Doubling(FirstRetry, MaxRetry, attempts);

    /// <summary>The wait after <paramref name="attempts"/> failures: <paramref name="first"/>, doubling, at most <paramref name="max"/>.</summary>
    public static TimeSpan Doubling(TimeSpan first, TimeSpan max, int attempts)
    {
        var doublings = Math.Clamp(attempts - 1, 0, 30);
        return TimeSpan.FromTicks((long)Math.Min(first.Ticks * (double)(1L << doublings), max.Ticks));
    }
}
