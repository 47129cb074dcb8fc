namespace OrderFlow.Statistics.Tests.Cluster;

/// <summary>
/// Makes every call to a grain whose key starts with <see cref="Prefix"/> fail as a call to a dead
/// or unreachable silo does; the key's last character picks which of <see cref="Failures"/>.
/// </summary>
public sealed class UnreachableGrainFilter : IOutgoingGrainCallFilter
{
    public const string Prefix = "unreachable-";

    public static readonly IReadOnlyList<Func<Exception>> Failures =
    [
        () => new SiloUnavailableException("The target silo became unavailable for message"),
        () => Internal<OrleansMessageRejectionException>("Target silo is known to be dead"),
        () => new TimeoutException("Response did not arrive on time in 00:00:08"),
        () => new Orleans.Runtime.Messaging.ConnectionFailedException("Unable to connect to S127.0.0.1:21622:0", new Orleans.Networking.Shared.SocketConnectionException("Unable to connect to 127.0.0.1:21622. Error: ConnectionRefused")),
        () => new GatewayTooBusyException("The gateway is too busy"),
        () => Internal<ClientNotAvailableException>("The client is not available"),
    ];

    /// <summary>Orleans creates these itself: their constructors are not public.</summary>
    private static Exception Internal<TException>(string message) where TException : Exception =>
        (Exception)Activator.CreateInstance(typeof(TException), System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic, null, [message], null)!;

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        var key = context.TargetId.Key.ToString();
        if (key is not null && key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw Failures[key[^1] - '0']();
        }

        return context.Invoke();
    }
}
