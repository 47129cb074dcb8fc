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
