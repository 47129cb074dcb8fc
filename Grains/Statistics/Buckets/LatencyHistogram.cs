using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Months;

namespace OrderFlow.Grains.Statistics.Buckets;

/// <summary>
/// A mergeable latency sketch: log-spaced bins growing by <see cref="Growth"/>, so every
/// percentile is within 1% of the true value (relative to 1 + seconds) however many values it
/// holds, and sketches of different buckets and shards add up exactly.
/// </summary>
/// <remarks>
/// The bin width bounds the sketch's size, whatever the volume: a latency of up to 100 years
/// falls in one of <see cref="MaxBins"/> bins. That bound is what lets a month rollup keep a
/// sketch per day inside one table entity (see <see cref="MonthStatsGrain"/>); 0.1% bins made a
/// month of 1,300 orders a day per shard overflow it.
/// </remarks>
[GenerateSerializer, Alias("orderflow.latency-histogram.v2")]
public sealed class LatencyHistogram
{
    /// <summary>
    /// Consecutive bin edges differ by this factor, 1.01², so a bin's geometric middle is within
    /// 1% of every value in it (1% is DDSketch's usual relative accuracy).
    /// </summary>
    public const double Growth = 1.01 * 1.01;

    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>Latencies longer than this (100 years) share the last bin; nothing real waits that long.</summary>
    public const double MaxSeconds = 100 * 365.25 * 86_400;

    /// <summary>The most bins a sketch can have (about 1,100): bins 0 to <see cref="BinOf"/>(<see cref="MaxSeconds"/>).</summary>
    public static readonly int MaxBins = BinOf(MaxSeconds) + 1;

    /// <summary>Bin index → how many values fell in it.</summary>
    public Dictionary<int, long> Bins => bins;

    [NonSerialized]
    private Dictionary<int, long> bins = [];

    [Id(1)] public long Count { get; set; }

    /// <summary>
    /// <see cref="Bins"/> as stored and sent: ascending (bin − previous bin, count) pairs as
    /// variable-length integers, about 3 bytes a bin; the dictionary itself took 8.5, which made a
    /// month of full sketches (see <see cref="MonthStatsGrain"/>) brush its entity's limit.
    /// </summary>
    [Id(2)]
    public byte[] PackedBins
    {
        get
        {
            if (Bins.Count == 0)
            {
                return [];
            }

            var buffer = new System.Buffers.ArrayBufferWriter<byte>(Bins.Count * 3);
            var previous = 0;
            foreach (var bin in Bins.Keys.Order())
            {
                Varint.Write(buffer, (ulong)(bin - previous));
                Varint.Write(buffer, (ulong)Bins[bin]);
                previous = bin;
            }

            return buffer.WrittenSpan.ToArray();
        }
        set
        {
            bins = [];
            var bin = 0;
            for (var position = 0; position < value.Length;)
            {
                bin += (int)Varint.Read(value, ref position);
                bins[bin] = (long)Varint.Read(value, ref position);
            }
        }
    }

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
        seconds <= 0 ? 0 : (int)Math.Ceiling(Math.Log(1 + Math.Min(seconds, MaxSeconds)) / LogGrowth);

    /// <summary>The bin's geometric middle, minus the 1 added before taking the log.</summary>
    public static double ValueOf(int bin) => bin == 0 ? 0 : Math.Exp((bin - 0.5) * LogGrowth) - 1;
}
