using OrderFlow.Orders;
using OrderFlow.Storage;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// Storage goes away under a running silo: commands and queries fail fast with
/// <see cref="StorageUnavailableException"/> (not Orleans' call timeout), write nothing, and the
/// order is intact once storage is back. Uses its own Azurite (kept on disk, so that a restart
/// keeps the data) and a cluster on the product's own table client settings.
/// </summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task StorageOutageFailsFastWritesNothingAndRecovers()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataFolder = Path.Combine(Path.GetTempPath(), "orderflow-grains-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var azurite = await Azurite.StartNewAsync(dataFolder, ct);
            await using var cluster = await OrderCluster.StartAsync(azurite.ConnectionString, TableNames.Unique("outage"), countRequests: false, ct);

            var id = NewOrderId();
            var grain = cluster.Grain(id);
            var placed = await grain.Succeeds(Place(id));
            await azurite.WaitUntilSavedAsync(id, ct);

            await azurite.StopAsync();

            // Storage refuses connections: no request went out, so every failure says that nothing was written.
            await NothingWritten(() => grain.Execute(Pay(), new()));
            var neverActivated = NewOrderId();
            await NothingWritten(() => cluster.Grain(neverActivated).Get());
            await NothingWritten(() => cluster.Grain(NewOrderId()).Execute(Pay(), new()));
            var newOrder = NewOrderId();
            await NothingWritten(() => cluster.Grain(newOrder).Execute(Place(newOrder), new()));
            await NothingWritten(() => grain.GetAsOf(DateTimeOffset.UtcNow));

            await azurite.StartAsync(ct);

            // Nothing of the failed payment was written, and the order reads back from storage as it was.
            var events = await cluster.EventsAsync(id, ct);
            Assert.Equal(["OrderPlaced"], events.Select(e => e.Type));
            SameView(placed, await grain.Get());
            await cluster.DeactivateAsync(id);
            SameView(placed, await grain.Get());
            Assert.Null(await cluster.Grain(neverActivated).Get());
            Assert.Empty(await cluster.RowsAsync(newOrder, ct));

            // And the order goes on once storage is back.
            var paid = await grain.Succeeds(Pay());
            Assert.Equal((OrderStatus.Paid, 2), (paid.Status, paid.Version));
        }
        finally
        {
            try
            {
                Directory.Delete(dataFolder, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    private static async Task NothingWritten(Func<Task> call)
    {
        var thrown = await Assert.ThrowsAsync<StorageUnavailableException>(call);
        Assert.False(thrown.WriteOutcomeUnknown, $"A refused connection must not leave the outcome unknown: {thrown}");
    }
}
