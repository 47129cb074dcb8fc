using System.Net.Sockets;
using Azure;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// Which failed writes may have reached storage. The failures are built as the Azure SDK raises them
/// (a <see cref="RequestFailedException"/> per attempt, an <see cref="AggregateException"/> of every
/// attempt after retries); the end-to-end cases run against Azurite in <see cref="StorageOutageTests"/>
/// and <see cref="UnknownOutcomeTests"/>.
/// </summary>
public sealed class StorageErrorsTests
{
    private static RequestFailedException Status(int status, string errorCode) => new(status, errorCode, errorCode, null);

    private static RequestFailedException NotConnected(HttpRequestError error, SocketError socket) =>
        new("no connection", new HttpRequestException(error, "no connection", new SocketException((int)socket)));

    private static RequestFailedException NetworkTimeout() =>
        new("timed out", new TaskCanceledException("The operation was cancelled because it exceeded the configured timeout of 0:00:03."));

    private static RequestFailedException ResetMidRequest() =>
        new("reset", new HttpRequestException(HttpRequestError.ResponseEnded, "reset", new IOException("Connection reset by peer")));

    public static TheoryData<string, Exception> NothingWritten => new()
    {
        { "connection refused", NotConnected(HttpRequestError.ConnectionError, SocketError.ConnectionRefused) },
        { "name not resolved", NotConnected(HttpRequestError.NameResolutionError, SocketError.HostNotFound) },
        { "every retry refused a connection", new AggregateException(NotConnected(HttpRequestError.ConnectionError, SocketError.ConnectionRefused), NotConnected(HttpRequestError.NameResolutionError, SocketError.HostNotFound)) },
    };

    public static TheoryData<string, Exception> OutcomeUnknown => new()
    {
        { "network timeout", NetworkTimeout() },
        { "deadline", new OperationCanceledException() },
        { "connection reset mid-request", ResetMidRequest() },
        { "500 OperationTimedOut", Status(500, "OperationTimedOut") },
        { "500 InternalError", Status(500, "InternalError") },

        // The SDK answers with the last attempt's status and drops the earlier attempts' errors: one may have timed out.
        { "503 ServerBusy as the last answer", Status(503, "ServerBusy") },
        { "429 throttled as the last answer", Status(429, "TooManyRequests") },
        { "one retry of several timed out", new AggregateException(NetworkTimeout(), NotConnected(HttpRequestError.ConnectionError, SocketError.ConnectionRefused), Status(503, "ServerBusy")) },
        { "one retry of several reset", new AggregateException(Status(503, "ServerBusy"), ResetMidRequest()) },
    };

    [Theory]
    [MemberData(nameof(NothingWritten))]
    public void A_write_that_never_reached_storage_wrote_nothing(string description, Exception failure) =>
        Assert.False(StorageErrors.MayHaveReachedStorage(failure), description);

    [Theory]
    [MemberData(nameof(OutcomeUnknown))]
    public void A_write_that_may_have_reached_storage_has_an_unknown_outcome(string description, Exception failure) =>
        Assert.True(StorageErrors.MayHaveReachedStorage(failure), description);

    [Fact]
    public async Task A_hung_append_is_of_unknown_outcome_and_a_hung_read_wrote_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var hang = (CancellationToken token) => Task.Delay(Timeout.Infinite, token);

        var write = await Assert.ThrowsAsync<Storage.StorageUnavailableException>(() =>
            StorageErrors.TranslateWrite("s", TimeSpan.FromMilliseconds(50), async token => { await hang(token); return true; }, ct));
        var read = await Assert.ThrowsAsync<Storage.StorageUnavailableException>(() =>
            StorageErrors.Translate("s", TimeSpan.FromMilliseconds(50), hang, ct));

        Assert.True(write.WriteOutcomeUnknown);
        Assert.False(read.WriteOutcomeUnknown);
    }
}
