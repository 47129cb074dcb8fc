using System.Diagnostics;
using System.Globalization;

namespace OrderFlow.Benchmarks;

/// <summary>
/// Processor time used by this process (the API host with its co-hosted silo, and the benchmark's
/// own HTTP client), with the memory it allocated, and by Azurite (<c>BENCH_AZURITE_PID</c>, which bench.sh sets), read before and
/// after a scenario: where a scenario's processor time went on a machine all of them share.
/// Azurite's comes from <c>/proc/PID/stat</c>, so it is measured on Linux only.
/// </summary>
public sealed class ProcessorTime
{
    /// <summary>The kernel's clock ticks per second, in which <c>/proc/PID/stat</c> counts (USER_HZ: 100 on every Linux architecture .NET runs on).</summary>
    private const double TicksPerSecond = 100;

    private readonly int? azuritePid;

    public ProcessorTime(int? azuritePid) => this.azuritePid = azuritePid;

    /// <summary>From the environment: Azurite's process id when bench.sh gave it and it can be read.</summary>
    public static ProcessorTime FromEnvironment() =>
        new(int.TryParse(Environment.GetEnvironmentVariable("BENCH_AZURITE_PID"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && AzuriteSecondsOf(pid) is not null ? pid : null);

    public Sample Now() => new(
        Stopwatch.GetTimestamp(), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, GC.GetTotalAllocatedBytes(), azuritePid is { } pid ? AzuriteSecondsOf(pid) : null);

    /// <summary>User and system time of process <paramref name="pid"/>, in seconds; null when it cannot be read.</summary>
    private static double? AzuriteSecondsOf(int pid)
    {
        try
        {
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>A moment, with the processor seconds each process had used by then and the bytes this one had allocated.</summary>
    public readonly record struct Sample(long Timestamp, double ThisProcessSeconds, long AllocatedBytes, double? AzuriteSeconds)
    {
        /// <summary>What was used from <paramref name="start"/> to this sample, over <paramref name="operations"/> operations.</summary>
        public Split Since(Sample start, int operations)
        {
            var wall = Stopwatch.GetElapsedTime(start.Timestamp, Timestamp).TotalSeconds;
            var azurite = AzuriteSeconds - start.AzuriteSeconds;
            return new Split(ThisProcessSeconds - start.ThisProcessSeconds, AllocatedBytes - start.AllocatedBytes, azurite, wall, operations);
        }
    }

    /// <summary>Processor seconds of this process (and what it allocated) and of Azurite over <paramref name="WallSeconds"/> of <paramref name="Operations"/> operations.</summary>
    public sealed record Split(double ThisProcessSeconds, long AllocatedBytes, double? AzuriteSeconds, double WallSeconds, int Operations)
    {
        /// <summary>Cores this process kept busy on average (2 would be the whole of a 2-core machine).</summary>
        public double ThisProcessCores => ThisProcessSeconds / WallSeconds;

        /// <summary>Cores Azurite kept busy: it serves every request on one JavaScript thread (V8's collector has helpers), so about 1 is its limit.</summary>
        public double? AzuriteCores => AzuriteSeconds / WallSeconds;

        public double ThisProcessMsPerOperation => ThisProcessSeconds * 1000 / Operations;

        public double? AzuriteMsPerOperation => AzuriteSeconds * 1000 / Operations;

        public double AllocatedKiBPerOperation => AllocatedBytes / 1024.0 / Operations;

        public void AddTo(BenchResults figures, string key)
        {
            figures.Add($"cpu.{key}.this_process_cores", ThisProcessCores, "cores");
            figures.Add($"cpu.{key}.this_process_ms_per_op", ThisProcessMsPerOperation, "ms");
            figures.Add($"cpu.{key}.allocated_per_op", AllocatedKiBPerOperation, "KiB");
            if (AzuriteSeconds is not null)
            {
                figures.Add($"cpu.{key}.azurite_cores", AzuriteCores!.Value, "cores");
                figures.Add($"cpu.{key}.azurite_ms_per_op", AzuriteMsPerOperation!.Value, "ms");
            }
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"processor: this process {ThisProcessCores:0.00} cores ({ThisProcessMsPerOperation:0.00} ms/op, {AllocatedKiBPerOperation:0} KiB allocated/op), ")
            + (AzuriteSeconds is null ? "Azurite not measured" : string.Create(CultureInfo.InvariantCulture, $"Azurite {AzuriteCores:0.00} cores ({AzuriteMsPerOperation:0.00} ms/op)"));
    }
}
