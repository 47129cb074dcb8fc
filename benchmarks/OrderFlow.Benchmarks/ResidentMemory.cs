namespace OrderFlow.Benchmarks;

/// <summary>
/// The resident memory of this process (the API host with its co-hosted silo, and the benchmark's
/// own HTTP client), sampled every second from start to end.
/// </summary>
public sealed class ResidentMemory : IAsyncDisposable
{
    private readonly List<(TimeSpan At, double MiB)> samples = [];
    private readonly CancellationTokenSource stop = new();
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly Task sampling;

    public ResidentMemory() => sampling = SampleAsync();

    public static double NowMiB => Environment.WorkingSet / (1024.0 * 1024.0);

    /// <summary>Time since sampling started, on the clock of <see cref="Samples"/>.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>
    /// The mean of the samples taken from <paramref name="from"/> to <paramref name="to"/> (now if none
    /// was): one sample lands before or after a full collection by chance, a minute's mean does not.
    /// </summary>
    public double MeanMiB(TimeSpan from, TimeSpan to)
    {
        lock (samples)
        {
            var within = samples.Where(sample => sample.At >= from && sample.At <= to).Select(sample => sample.MiB).ToList();
            return within.Count > 0 ? within.Average() : NowMiB;
        }
    }

    /// <summary>
    /// What the managed objects took right after the latest full (generation 2) collection, in MiB:
    /// what survives, without the garbage a heap holds until the collector gets to it; null before
    /// the first.
    /// </summary>
    public static double? LiveAfterFullCollectionMiB()
    {
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var latest = blocking.Index >= background.Index ? blocking : background;
        return latest.Index == 0 ? null : (latest.HeapSizeBytes - latest.FragmentedBytes) / (1024.0 * 1024.0);
    }

    public IReadOnlyList<(TimeSpan At, double MiB)> Samples
    {
        get
        {
            lock (samples)
            {
                return [.. samples];
            }
        }
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            lock (samples)
            {
                samples.Add((clock.Elapsed, NowMiB));
            }
        }
        while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false) is true);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await sampling;
        }
        catch (OperationCanceledException)
        {
            // stopped on purpose
        }

        stop.Dispose();
    }
}
