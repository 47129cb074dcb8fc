namespace OrderFlow.Testing;

/// <summary>
/// The change index announces an order once per bucket (a minute by default), so a command's first
/// storage request is its append only when the order was announced in the same minute. A test that
/// relies on it runs its scenario with a new order each time, and starts over when the minute turned
/// during the attempt: no margin before the minute's end to guess.
/// </summary>
public static class SameChangeBucket
{
    public static async Task<T> RunAsync<T>(Func<Task<T>> attempt)
    {
        for (var tries = 1; ; tries++)
        {
            var minute = CurrentMinute();
            var result = await attempt();
            if (CurrentMinute() == minute || tries == 3)
            {
                return result;
            }
        }
    }

    private static long CurrentMinute() => DateTime.UtcNow.Ticks / TimeSpan.TicksPerMinute;
}
