using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>Keeps the warnings and errors a host logs, so that a failing test can show them.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    private const int Kept = 200;
    private readonly ConcurrentQueue<string> entries = new();

    public IReadOnlyList<string> Entries => [.. entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>The last entries, one per line, or a note that there were none.</summary>
    public string Describe() => entries.IsEmpty ? "(the host logged no warnings)" : string.Join("\n", entries);

    private void Add(string entry)
    {
        entries.Enqueue(entry);
        while (entries.Count > Kept && entries.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message)}");
            }
        }
    }
}
