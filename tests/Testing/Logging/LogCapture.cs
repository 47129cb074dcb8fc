using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace OrderFlow.Testing.Logging;

/// <summary>
/// What a host under test logged, kept by <see cref="FakeLogCollector"/>: tests assert on its
/// records, and a failing test shows the last of them (<see cref="Describe"/>).
/// </summary>
public static class LogCapture
{
    /// <summary>How many records <see cref="Describe"/> shows: the end of a long run is what explains a failure.</summary>
    public const int DescribedRecords = 200;

    /// <summary>A collector of warnings, errors and critical records only (a host's information logs are noise in a failure).</summary>
    public static FakeLogCollector WarningsAndErrors() => FakeLogCollector.Create(new FakeLogCollectorOptions
    {
        FilteredLevels = new HashSet<LogLevel> { LogLevel.Warning, LogLevel.Error, LogLevel.Critical },
    });

    /// <summary>Sends the host's logs to <paramref name="collector"/> as well (the host's level filters still apply).</summary>
    public static ILoggingBuilder AddCapture(this ILoggingBuilder logging, FakeLogCollector collector) =>
        logging.AddProvider(new FakeLoggerProvider(collector));

    /// <summary>The records' messages, oldest first.</summary>
    public static IReadOnlyList<string> Messages(this FakeLogCollector collector) =>
        [.. collector.GetSnapshot().Select(record => record.Message)];

    /// <summary>The last <see cref="DescribedRecords"/> records, one per line, or a note that there were none.</summary>
    public static string Describe(this FakeLogCollector collector)
    {
        var records = collector.GetSnapshot();
        if (records.Count == 0)
        {
            return "(the host logged no warnings)";
        }

        return string.Join("\n", records.Skip(Math.Max(0, records.Count - DescribedRecords)).Select(Line));
    }

    private static string Line(FakeLogRecord record) =>
        string.Create(CultureInfo.InvariantCulture, $"{record.Timestamp.UtcDateTime:HH:mm:ss.fff} {record.Level} {record.Category}: {record.Message}")
        + (record.Exception is null ? "" : " | " + record.Exception.GetType().Name + ": " + record.Exception.Message);
}
