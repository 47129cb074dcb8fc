using System.Diagnostics;

namespace OrderFlow.Testing;

/// <summary>
/// Waits for what the system under test does in the background (streams, reconciliation, deletions
/// after a write): polls a condition until it holds, or fails naming what was waited for and how long.
/// The timeouts are generous so that a loaded machine slows a test down rather than failing it.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Polls <paramref name="condition"/> until it returns true; <paramref name="what"/> reads "Waited 30 s for {what}."</summary>
    /// <param name="lastSeen">What the last poll saw, for the failure's message (a status, a response body).</param>
    public static async Task UntilAsync(
        Func<Task<bool>> condition, string what, CancellationToken cancellationToken, TimeSpan? timeout = null, Func<string?>? lastSeen = null) =>
        await ValueAsync(async () => await condition() ? "" : null, what, cancellationToken, timeout, lastSeen);

    /// <summary>Polls <paramref name="probe"/> until it returns a value, and returns that value.</summary>
    /// <param name="lastSeen">What the last poll saw, for the failure's message (a status, a response body).</param>
    public static async Task<T> ValueAsync<T>(
        Func<Task<T?>> probe, string what, CancellationToken cancellationToken, TimeSpan? timeout = null, Func<string?>? lastSeen = null)
        where T : class
    {
        var limit = timeout ?? DefaultTimeout;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (watch.Elapsed >= limit)
            {
                throw new TimeoutException(lastSeen?.Invoke() is { } seen
                    ? $"Waited {limit.TotalSeconds:0} s for {what}; the last poll saw: {seen}"
                    : $"Waited {limit.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }
}
