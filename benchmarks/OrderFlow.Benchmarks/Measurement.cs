using System.Diagnostics;
using System.Globalization;

namespace OrderFlow.Benchmarks;

/// <summary>What one scenario did: how many operations, how long in all, and each one's latency.</summary>
public sealed record Measurement(string Scenario, int Operations, TimeSpan Elapsed, double[] LatenciesMs)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;

    /// <summary>Nearest-rank percentile of the latencies.</summary>
    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var sorted = LatenciesMs.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>
    /// Runs <paramref name="operation"/> for items 0..<paramref name="count"/> − 1, at most
    /// <paramref name="concurrency"/> at a time, timing each.
    /// </summary>
    public static async Task<Measurement> RunAsync(string scenario, int count, int concurrency, Func<int, Task> operation)
    {
        var latencies = new double[count];
        var next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                await operation(i);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }));
        return new Measurement(scenario, count, total.Elapsed, latencies);
    }

    public string Row(double baselinePerSecond) => string.Create(CultureInfo.InvariantCulture,
        $"| {Scenario} | {Operations} | {PerSecond:0} | {Percentile(50):0.0} | {Percentile(95):0.0} | {Percentile(99):0.0} | {PerSecond / baselinePerSecond:0.00} |");
}
