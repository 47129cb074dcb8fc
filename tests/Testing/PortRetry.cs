using System.Net.Sockets;

namespace OrderFlow.Testing;

/// <summary>
/// <see cref="Azurite.FreePort"/> hands out a port that was free a moment ago; a test host that
/// starts in parallel with others can still find it taken by the time it binds (seen in CI).
/// </summary>
public static class PortRetry
{
    /// <summary>Runs <paramref name="start"/> (which picks its own free ports) again, up to <paramref name="attempts"/> times, while a port it chose turns out to be taken.</summary>
    public static async Task<T> StartAsync<T>(Func<Task<T>> start, int attempts = 3)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start();
            }
            catch (Exception exception) when (attempt < attempts && IsAddressInUse(exception))
            {
                // pick new ports and try again
            }
        }
    }

    private static bool IsAddressInUse(Exception? exception) => exception switch
    {
        null => false,
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsAddressInUse),
        _ => exception.GetType().Name == "AddressInUseException" || IsAddressInUse(exception.InnerException),
    };
}
