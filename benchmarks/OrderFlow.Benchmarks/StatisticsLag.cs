using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrderFlow.Benchmarks;

/// <summary>
/// The lag from a command's answer to its event counted in the statistics: while commands run, a
/// probe asks for the count of events over and over. The i-th answer (in time order) is taken as
/// visible at the end of the first poll that counted i events more than before the run began
/// (first in, first counted); a count that was already there before the answer is a lag of 0.
/// That is the time until the statistics counted as many events as had been answered, and the
/// figure is an upper bound of it: it holds the part of the counting poll after the statistics were
/// read and, when the poll before it read them just before the event was counted, <see cref="PollPause"/>
/// and that whole poll as well. It is not each event's own lag, which counts cannot tell apart: an
/// event counted after events answered later than it shows only the count's shortfall.
/// </summary>
public sealed class StatisticsLag
{
    /// <summary>
    /// The pause between polls. Polling back to back kept a whole core of this machine's two busy
    /// with the probe alone, taken from the system it measures and from Azurite.
    /// </summary>
    public static readonly TimeSpan PollPause = TimeSpan.FromMilliseconds(2);

    private readonly ConcurrentQueue<long> answers = new();

    /// <summary>Called by the load after each command's answer.</summary>
    public void Answered() => answers.Enqueue(Stopwatch.GetTimestamp());

    private int failed;

    /// <summary>Called by the load when a command failed; the rest of its order is not sent.</summary>
    public void Failed() => Interlocked.Increment(ref failed);

    /// <summary>
    /// Runs <paramref name="load"/> while polling <paramref name="visibleCount"/> (null: not answered
    /// this time), then keeps polling until every answer is counted or <paramref name="settle"/> has
    /// passed since the load ended.
    /// </summary>
    public async Task<LagResult> MeasureAsync(Func<Task<long?>> visibleCount, Func<StatisticsLag, Task> load, TimeSpan settle)
    {
        long? first;
        while ((first = await visibleCount()) is null)
        {
            await Task.Delay(100);
        }

        var before = first.Value;
        var observations = new List<(long At, long Count)>();
        var pollDurations = new List<double>();
        var loadDone = new TaskCompletionSource();
        long loadEnded = 0;
        var polling = Task.Run(async () =>
        {
            while (true)
            {
                var asked = Stopwatch.GetTimestamp();
                var visible = await visibleCount();
                var answered = Stopwatch.GetTimestamp();
                var ended = loadDone.Task.IsCompleted && Stopwatch.GetElapsedTime(loadEnded) > settle;
                if (visible is null)
                {
                    if (ended)
                    {
                        return;
                    }

                    await Task.Delay(10);
                    continue;
                }

                var count = visible.Value - before;
                observations.Add((answered, count));
                pollDurations.Add(Stopwatch.GetElapsedTime(asked, answered).TotalMilliseconds);
                if (loadDone.Task.IsCompleted && (count >= answers.Count || ended))
                {
                    return;
                }

                await Task.Delay(PollPause);
            }
        });

        var started = Stopwatch.GetTimestamp();
        try
        {
            await load(this);
        }
        finally
        {
            loadEnded = Stopwatch.GetTimestamp();
            loadDone.SetResult();
            await polling;
        }

        var times = answers.Order().ToArray();
        var lags = new double[times.Length];
        var unseen = 0;
        var j = 0;
        long seen = 0;
        for (var i = 0; i < times.Length; i++)
        {
            while (j < observations.Count && Math.Max(seen, observations[j].Count) < i + 1)
            {
                seen = Math.Max(seen, observations[j].Count);
                j++;
            }

            if (j == observations.Count)
            {
                unseen++;
                lags[i] = observations.Count > 0 ? Stopwatch.GetElapsedTime(times[i], observations[^1].At).TotalMilliseconds : double.NaN;
                continue;
            }

            lags[i] = Math.Max(0, Stopwatch.GetElapsedTime(times[i], observations[j].At).TotalMilliseconds);
        }

        return new LagResult(times, lags, unseen, Stopwatch.GetElapsedTime(started, loadEnded), observations.Count, failed)
        {
            PollMs = [.. pollDurations],
        };
    }
}

/// <summary>Each answer's time (Stopwatch ticks, ascending) and lag; how many were never counted within the settle time.</summary>
public sealed record LagResult(long[] AnsweredAt, double[] LagMs, int Unseen, TimeSpan LoadDuration, int Polls, int FailedOrders = 0)
{
    /// <summary>Most orders got through (a few 503s under overload are a figure, not a broken run).</summary>
    public bool MostlySucceeded => FailedOrders * 6 <= AnsweredAt.Length;

    public double CommandsPerSecond => AnsweredAt.Length / LoadDuration.TotalSeconds;

    public double Percentile(double p) => new Measurement("lag", LagMs.Length, LoadDuration, LagMs).Percentile(p);

    /// <summary>
    /// How long each answered poll of the summary took, from asking to its answer read: a lag holds
    /// the part of the counting poll after the statistics were read, and up to a pause and a whole
    /// poll more when the poll before it just missed the event.
    /// </summary>
    public double[] PollMs { get; init; } = [];

    public double PollPercentile(double p) => new Measurement("poll", PollMs.Length, LoadDuration, PollMs).Percentile(p);

    /// <summary>The answers of each window of <paramref name="width"/> since <paramref name="origin"/>, as their own result.</summary>
    public IEnumerable<(int Index, LagResult Window)> Windows(long origin, TimeSpan width)
    {
        var ticks = (long)(width.TotalSeconds * Stopwatch.Frequency);
        return AnsweredAt
            .Select((at, i) => (Bucket: (int)((at - origin) / ticks), i))
            .GroupBy(x => x.Bucket)
            .OrderBy(g => g.Key)
            .Select(g => (g.Key, new LagResult(
                [.. g.Select(x => AnsweredAt[x.i])],
                [.. g.Select(x => LagMs[x.i])],
                0,
                width,
                0)));
    }
}
