using System.Diagnostics;
using System.Globalization;

namespace OrderFlow.Benchmarks;

/// <summary>
/// Cost per append and per cold first read as a history grows: for each subject (ours, Orleans'
/// peers) one entity per history length, filled to that length, then first reads after every
/// activation has been collected, then appends measured in rounds that interleave the lengths and
/// subjects (so the machine's ups and downs hit all alike). A subject that fails while filling or
/// appending is recorded with the history length it had reached, and not asked again beyond it.
/// </summary>
public sealed class HistoryScenario(IReadOnlyList<int> lengths, int appendRounds, int coldRounds, Func<Task> collectActivations)
{
    /// <param name="Create">Brings the entity of that length into being; the events that took.</param>
    /// <param name="Append">Appends one event to the entity of that length, with that unique id.</param>
    /// <param name="ColdRead">The first read of the entity of that length after its activation was collected; none when another subject reads the same entity.</param>
    /// <param name="FillsOwnEntities">False when the entities are another subject's (the same orders, reached another way).</param>
    /// <param name="FillConcurrency">
    /// Appends in flight while filling. More than one queues calls at the grain; when each append
    /// takes seconds, the queued ones time out (30 s) before storage has refused anything, so the
    /// peers fill one append at a time and their failure is their own.
    /// </param>
    public sealed record Subject(
        string Name,
        Func<int, Task<int>> Create,
        Func<int, string, Task> Append,
        Func<int, Task>? ColdRead,
        bool FillsOwnEntities = true,
        int FillConcurrency = 8);

    private readonly Dictionary<(string Subject, int Length), List<double>> appends = [];
    private readonly Dictionary<(string Subject, int Length), List<double>> coldReads = [];
    private readonly Dictionary<string, (int Length, string Reason)> failures = [];

    public async Task RunAsync(IReadOnlyList<Subject> subjects)
    {
        var fill = Stopwatch.StartNew();
        await Task.WhenAll(subjects.Where(s => s.FillsOwnEntities).SelectMany(s => lengths.Select(n => FillAsync(s, n, s.FillConcurrency))));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  history: filled in {fill.Elapsed.TotalSeconds:0} s"));

        // Cold reads first, at exactly the lengths filled: the append rounds add two events a round to
        // each order (over HTTP and as a grain call), which would make "10 events" a hundred and more.
        for (var round = 0; round < coldRounds; round++)
        {
            await collectActivations();
            foreach (var n in Rotate(lengths, round))
            {
                foreach (var subject in Rotate(subjects, round).Where(s => s.ColdRead is not null && !Failed(s, n)))
                {
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        await subject.ColdRead!(n);
                        Latencies(coldReads, subject, n).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        RecordFailure(subject, n, e);
                    }
                }
            }
        }

        for (var round = 0; round < appendRounds; round++)
        {
            foreach (var n in Rotate(lengths, round))
            {
                foreach (var subject in Rotate(subjects, round))
                {
                    if (Failed(subject, n))
                    {
                        continue;
                    }

                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        await subject.Append(n, string.Create(CultureInfo.InvariantCulture, $"m{round}-{subject.Name.GetHashCode() & 0xffff}"));
                        Latencies(appends, subject, n).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        RecordFailure(subject, n, e);
                    }
                }
            }
        }
    }

    public double? AppendPercentile(string subject, int length, double p) => Percentile(appends, subject, length, p);

    public double? ColdReadPercentile(string subject, int length, double p) => Percentile(coldReads, subject, length, p);

    /// <summary>The history length a subject had reached when it failed, and why; null when it never failed.</summary>
    public (int Length, string Reason)? Failure(string subject) => failures.TryGetValue(subject, out var failure) ? failure : null;

    public void Report(IReadOnlyList<Subject> subjects, BenchResults figures)
    {
        Console.WriteLine();
        Console.WriteLine("| history (events) | subject | append p50 ms | append p95 ms | cold first read p50 ms | cold read p95 ms |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var n in lengths)
        {
            foreach (var subject in subjects)
            {
                var key = "history." + Slug(subject.Name) + "." + n.ToString(CultureInfo.InvariantCulture);
                var a50 = AppendPercentile(subject.Name, n, 50);
                var a95 = AppendPercentile(subject.Name, n, 95);
                var c50 = ColdReadPercentile(subject.Name, n, 50);
                var c95 = ColdReadPercentile(subject.Name, n, 95);
                figures.Add(key + ".append_p50", a50 ?? double.NaN, "ms");
                figures.Add(key + ".append_p95", a95 ?? double.NaN, "ms");
                figures.Add(key + ".cold_read_p50", c50 ?? double.NaN, "ms");
                figures.Add(key + ".cold_read_p95", c95 ?? double.NaN, "ms");
                var failed = Failed(subject, n) ? $" (failed at {failures[subject.Name].Length} events)" : "";
                Console.WriteLine($"| {n:N0} | {subject.Name}{failed} | {Format(a50)} | {Format(a95)} | {Format(c50)} | {Format(c95)} |");
            }
        }

        foreach (var subject in subjects)
        {
            var failure = Failure(subject.Name);
            figures.Add("history." + Slug(subject.Name) + ".failed_at_events", failure?.Length ?? 0, "events");
            Console.WriteLine(failure is { } f
                ? $"{subject.Name}: failed at a history of {f.Length:N0} events: {f.Reason}"
                : $"{subject.Name}: no failure up to {lengths[^1]:N0} events");
        }
    }

    private async Task FillAsync(Subject subject, int length, int concurrency)
    {
        int created;
        try
        {
            created = await subject.Create(length);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            RecordFailure(subject, 0, e);
            return;
        }

        var filling = Stopwatch.StartNew();
        var next = created - 1;
        var reached = created;
        using var stop = new CancellationTokenSource();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int k;
            while (!stop.IsCancellationRequested && (k = Interlocked.Increment(ref next)) < length)
            {
                try
                {
                    await subject.Append(length, "f" + k.ToString(CultureInfo.InvariantCulture));
                    Interlocked.Increment(ref reached);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    RecordFailure(subject, Volatile.Read(ref reached), e);
                    await stop.CancelAsync();
                }
            }
        }));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  history: {subject.Name}, {reached:N0} of {length:N0} events in {filling.Elapsed.TotalSeconds:0} s{(stop.IsCancellationRequested ? " (failed)" : "")}"));
    }

    private void RecordFailure(Subject subject, int reached, Exception e)
    {
        lock (failures)
        {
            if (!failures.TryGetValue(subject.Name, out var earlier) || reached < earlier.Length)
            {
                var reason = e.GetType().Name + ": " + e.Message.Split('\n')[0];
                failures[subject.Name] = (reached, reason.Length > 240 ? reason[..240] + "…" : reason);
            }
        }
    }

    private bool Failed(Subject subject, int length)
    {
        lock (failures)
        {
            return failures.TryGetValue(subject.Name, out var failure) && failure.Length <= length;
        }
    }

    private static List<double> Latencies(Dictionary<(string, int), List<double>> all, Subject subject, int length)
    {
        if (!all.TryGetValue((subject.Name, length), out var list))
        {
            all[(subject.Name, length)] = list = [];
        }

        return list;
    }

    private static double? Percentile(Dictionary<(string, int), List<double>> all, string subject, int length, double p) =>
        all.TryGetValue((subject, length), out var list) && list.Count > 0
            ? new Measurement(subject, list.Count, TimeSpan.FromSeconds(1), [.. list]).Percentile(p)
            : null;

    private static IEnumerable<T> Rotate<T>(IReadOnlyList<T> items, int by) =>
        Enumerable.Range(0, items.Count).Select(i => items[(i + by) % items.Count]);

    private static string Format(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "—";

    public static string Slug(string name) =>
        new([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
}
