using Azure;
using Orleans.Runtime;
using OrderFlow.Api.Errors;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Which exceptions are storage or cluster unavailability (503) and which are bugs (500), built
/// the way Orleans grain storage and the Azure SDK raise them (see <see cref="StatisticsOutageTests"/>
/// for the real thing against a stopped and a hung Azurite).
/// </summary>
public sealed class UnavailabilityTests
{
    private static AggregateException RetriedTimeouts() => new(
        "Retry failed after 3 tries.",
        Enumerable.Range(0, 3).Select(_ => new TaskCanceledException("The operation was cancelled because it exceeded the configured timeout of 0:00:03.",
            new TaskCanceledException("The operation was canceled.", new IOException("Unable to read data from the transport connection")))));

    private static RequestFailedException Refused() =>
        new("Connection refused", new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));

    public static TheoryData<string, Exception, UnavailableCause> Cases => new()
    {
        { "grain storage: retried network timeouts", new OrleansException("Error from storage provider during ReadStateAsync", RetriedTimeouts()), UnavailableCause.Storage },
        { "grain storage: retried refused connections", new OrleansException("Error from storage provider", new AggregateException(Refused(), Refused(), Refused())), UnavailableCause.Storage },
        { "grain storage: 503 ServerBusy", new OrleansException("Error from storage provider", new RequestFailedException(503, "ServerBusy")), UnavailableCause.Storage },
        { "grain storage: 500 OperationTimedOut", new OrleansException("Error from storage provider", new RequestFailedException(500, "OperationTimedOut")), UnavailableCause.Storage },
        { "statistics grain storage: no answer within its deadline", new OrleansException("Error from storage provider", new OrderFlow.Storage.StorageUnavailableException("The event log did not answer within 6 s.", new TaskCanceledException())), UnavailableCause.Storage },
        { "a grain call cancelled by a timeout", new TaskCanceledException("The operation was canceled."), UnavailableCause.Storage },
        { "Orleans' call timeout", new TimeoutException("Response did not arrive on time"), UnavailableCause.Cluster },
        { "a silo gone", new SiloUnavailableException("The target silo became unavailable"), UnavailableCause.Cluster },
        { "a gateway too busy", new GatewayTooBusyException("The gateway is too busy"), UnavailableCause.Cluster },
        // As the API as a client raised it when its last silo was gone (it was a 500).
        { "a gateway refusing connections", new Orleans.Runtime.Messaging.ConnectionFailedException("Unable to connect to S127.0.0.1:21622:0, will retry after 994ms",
            new Orleans.Networking.Shared.SocketConnectionException("Unable to connect to 127.0.0.1:21622. Error: ConnectionRefused")), UnavailableCause.Cluster },
        { "a connection to a silo reset", new Orleans.Networking.Shared.SocketConnectionException("Connection reset", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset)), UnavailableCause.Cluster },
        { "grain storage: 400 (a bad key is a bug)", new OrleansException("Error from storage provider", new RequestFailedException(400, "OutOfRangeInput")), UnavailableCause.None },
        { "grain storage: a serialization bug", new OrleansException("Error from storage provider", new InvalidOperationException("cannot deserialize")), UnavailableCause.None },
        { "retries of which one is a bug", new AggregateException(Refused(), new ArgumentException("bad")), UnavailableCause.None },
        { "an Orleans error without a cause", new OrleansException("something went wrong"), UnavailableCause.None },
        // Orleans' grain directory while membership changes, as Orleans 10 words it: a new activation neither registered nor run (these were 500s).
        { "a registration on a silo the directory takes for dead", new OrleansException(
            "Trying to register [OrderGrain/cl-1-00040] on invalid silo: S127.0.0.1:11113:123456789. Known status: Dead"), UnavailableCause.Cluster },
        { "a directory not yet stable", new OrleansException(
            "Current directory at S127.0.0.1:11111:1 is not stable to perform the lookup for grainId order/cl-1-00043 (it maps to S127.0.0.1:11112:2, which is not a valid silo). Retry later."), UnavailableCause.Cluster },
        { "a directory forwarded too often", new OrleansException(
            "Silo S127.0.0.1:11111:1 is not owner of order/x, cannot forward register to owner S127.0.0.1:11112:2 because hop limit is reached"), UnavailableCause.Cluster },
        { "a subtype of OrleansException that words it the same (not the directory's)", new GrainExtensionNotInstalledException("Trying to register it on invalid silo: S1. Known status: Dead"), UnavailableCause.None },
        { "a request body Kestrel could not read", new IOException("Bad chunk size data"), UnavailableCause.None },
        { "a request the framework refused", new Microsoft.AspNetCore.Http.BadHttpRequestException("Unexpected end of request content."), UnavailableCause.None },
        { "a plain bug", new NullReferenceException(), UnavailableCause.None },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unavailability_is_told_from_bugs(string description, Exception exception, UnavailableCause expected) =>
        Assert.True(Unavailability.CauseOf(exception) == expected, $"{description}: expected {expected}, got {Unavailability.CauseOf(exception)}");
}
