using System.Globalization;
using System.Text.Json;

namespace OrderFlow.Benchmarks;

/// <summary>
/// Every figure of a run by name (<c>artifacts/bench/results.json</c>: a flat
/// <c>name → { value, unit }</c>), and the issue's goals, each printed with its figure beside it.
/// </summary>
public sealed class BenchResults
{
    private readonly SortedDictionary<string, Figure> figures = new(StringComparer.Ordinal);
    private readonly List<string> goalLines = [];

    public void Add(string name, double value, string unit)
    {
        if (double.IsFinite(value))
        {
            figures[name] = new Figure(Math.Round(value, 4), unit);
        }
    }

    public void Add(string scenario, Measurement measurement)
    {
        Add(scenario + ".per_second", measurement.PerSecond, "1/s");
        Add(scenario + ".p50", measurement.Percentile(50), "ms");
        Add(scenario + ".p95", measurement.Percentile(95), "ms");
        Add(scenario + ".p99", measurement.Percentile(99), "ms");
    }

    /// <summary>A goal: met when <paramref name="value"/> is at most (or, with <paramref name="atLeast"/>, at least) <paramref name="goal"/>; a missing figure is not met.</summary>
    public void Goal(string name, string description, double? value, bool atLeast, double goal, string unit, string? note = null)
    {
        var met = value is { } v && double.IsFinite(v) && (atLeast ? v >= goal : v <= goal);
        var figure = value is { } f && double.IsFinite(f) ? f.ToString("0.00", CultureInfo.InvariantCulture) : "—";
        goalLines.Add(string.Create(CultureInfo.InvariantCulture,
            $"| {description} | {figure} {unit} | {(atLeast ? "≥" : "≤")} {goal:0.##} {unit} | {(value is null ? "not measured" : met ? "met" : "NOT met")} |{(note is null ? "" : " " + note)}"));
        if (value is { } known)
        {
            Add("goal." + name, known, unit);
        }

        Add("goal." + name + ".met", met ? 1 : 0, "bool");
    }

    public void PrintGoals()
    {
        Console.WriteLine();
        Console.WriteLine("| goal (issue 12) | this run | goal | |");
        Console.WriteLine("| --- | ---: | ---: | --- |");
        foreach (var line in goalLines)
        {
            Console.WriteLine(line);
        }
    }

    public async Task WriteAsync(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var document = figures.ToDictionary(pair => pair.Key, pair => new { value = pair.Value.Value, unit = pair.Value.Unit });
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    private sealed record Figure(double Value, string Unit);
}
