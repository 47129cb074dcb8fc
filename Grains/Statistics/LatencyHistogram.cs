namespace OrderFlow.Grains.Statistics;

/// <summary>
/// A mergeable latency sketch: log-spaced bins growing by <see cref="Growth"/>, so every
/// percentile is within 0.05% of the true value (relative to 1 + seconds) however many values
/// it holds, and sketches of different buckets and shards add up exactly.
/// </summary>
[GenerateSerializer, Alias("orderflow.latency-histogram")]
public sealed class LatencyHistogram
{
    /// <summary>Bin width: consecutive bin edges differ by 0.1%.</summary>
    public const double Growth = 1.001;

    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>Bin index → how many values fell in it.</summary>
    [Id(0)] public Dictionary<int, long> Bins { get; set; } = [];

    [Id(1)] public long Count { get; set; }

    public void Add(double seconds)
    {
        var bin = BinOf(seconds);
        Bins[bin] = Bins.GetValueOrDefault(bin) + 1;
        Count++;
    }

    public void Merge(LatencyHistogram other)
    {
        foreach (var (bin, count) in other.Bins)
        {
            Bins[bin] = Bins.GetValueOrDefault(bin) + count;
        }

        Count += other.Count;
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least <paramref name="fraction"/> of all values at or below it.</summary>
    public double? Percentile(double fraction)
    {
        if (Count == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(fraction * Count));
        long seen = 0;
        foreach (var bin in Bins.Keys.Order())
        {
            seen += Bins[bin];
            if (seen >= rank)
            {
                return ValueOf(bin);
            }
        }

        return ValueOf(Bins.Keys.Max());
    }

    /// <summary>Bin b holds values whose 1 + seconds lies in (Growth^(b-1), Growth^b].</summary>
    public static int BinOf(double seconds) =>
        seconds <= 0 ? 0 : (int)Math.Ceiling(Math.Log(1 + seconds) / LogGrowth);

    /// <summary>The bin's geometric middle, minus the 1 added before taking the log.</summary>
    public static double ValueOf(int bin) => bin == 0 ? 0 : Math.Exp((bin - 0.5) * LogGrowth) - 1;
}
