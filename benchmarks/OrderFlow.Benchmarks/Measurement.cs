using System.Diagnostics;
using System.Globalization;

namespace OrderFlow.Benchmarks;

/// <summary>
/// What one scenario did: how many operations, how long in all, and each one's latency; how many
/// failed (an overloaded system may answer 503, a result to report, not a reason to stop).
/// </summary>
public sealed record Measurement(string Scenario, int Operations, TimeSpan Elapsed, double[] LatenciesMs, int Failures = 0)
{
    /// <summary>Operations that succeeded, per second.</summary>
    public double PerSecond => (Operations - Failures) / Elapsed.TotalSeconds;

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
    /// <paramref name="concurrency"/> at a time, timing each that succeeds (an operation that
    /// throws <see cref="UnexpectedAnswerException"/> is counted as failed).
    /// </summary>
    public static async Task<Measurement> RunAsync(string scenario, int count, int concurrency, Func<int, Task> operation)
    {
        var latencies = new double[count];
        var failed = new bool[count];
        var next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await operation(i);
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
                catch (UnexpectedAnswerException)
                {
                    failed[i] = true;
                }
            }
        }));
        return new Measurement(scenario, count, total.Elapsed, [.. latencies.Where((_, i) => !failed[i])], failed.Count(f => f));
    }

    /// <summary>Whether the scenario did its work: a few failures under overload are reported, most failing means something is broken.</summary>
    public bool MostlySucceeded => Failures * 2 <= Operations;

    public string Row(double baselinePerSecond) => string.Create(CultureInfo.InvariantCulture,
        $"| {Scenario} | {Operations}{(Failures > 0 ? $" ({Failures} failed)" : "")} | {PerSecond:0} | {Percentile(50):0.0} | {Percentile(95):0.0} | {Percentile(99):0.0} | {PerSecond / baselinePerSecond:0.00} |");
}
