using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

public sealed class OrderIdempotencyTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task SameKeyAndSameCommandReplaysTheFirstAnswerAndWritesNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var placeKey = new CommandMetadata("corr-1", IdempotencyKey: "key-place");
        var payKey = new CommandMetadata("corr-2", IdempotencyKey: "key-pay");

        var placed = await grain.Succeeds(Place(id), placeKey);
        var paid = await grain.Succeeds(Pay(), payKey);
        var rows = await cluster.RowFingerprintAsync(id, ct);
        Assert.Contains(rows, r => r.StartsWith(KeyEncoding.IdempotencyRowKey("key-place"), StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith(KeyEncoding.IdempotencyRowKey("key-pay"), StringComparison.Ordinal));

        var placeAgain = await grain.Execute(Place(id), placeKey);
        Assert.True(placeAgain.Replayed);
        Assert.Null(placeAgain.Error);
        SameView(placed, placeAgain.Order);

        var payAgain = await grain.Execute(Pay(), payKey);
        Assert.True(payAgain.Replayed);
        Assert.Null(payAgain.Error);
        SameView(paid, payAgain.Order);
        Assert.Equal(rows, await cluster.RowFingerprintAsync(id, ct));

        // Later commands do not change the first answer: a retry gets the order as that command left it.
        await grain.Succeeds(Ship());
        rows = await cluster.RowFingerprintAsync(id, ct);
        payAgain = await grain.Execute(Pay(), payKey);
        Assert.True(payAgain.Replayed);
        SameView(paid, payAgain.Order);
        placeAgain = await grain.Execute(Place(id), placeKey);
        Assert.True(placeAgain.Replayed);
        SameView(placed, placeAgain.Order);
        Assert.Equal(rows, await cluster.RowFingerprintAsync(id, ct));
        Assert.Equal(3, (await cluster.EventsAsync(id, ct)).Count);
    }

    [Fact]
    public async Task ReplaysWorkOnAFreshActivation()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var placeKey = new CommandMetadata(IdempotencyKey: "key-place");
        var shipKey = new CommandMetadata(IdempotencyKey: "key-ship");
        var placed = await grain.Succeeds(Place(id), placeKey);
        await grain.Succeeds(Pay());
        var shipped = await grain.Succeeds(Ship(), shipKey);
        var rows = await cluster.RowFingerprintAsync(id, ct);

        await cluster.DeactivateAsync(id);
        var placeAgain = await grain.Execute(Place(id), placeKey);
        Assert.True(placeAgain.Replayed, placeAgain.Error?.Detail);
        SameView(placed, placeAgain.Order);

        await cluster.DeactivateAsync(id);
        var shipAgain = await grain.Execute(Ship(), shipKey);
        Assert.True(shipAgain.Replayed, shipAgain.Error?.Detail);
        SameView(shipped, shipAgain.Order);

        Assert.Equal(rows, await cluster.RowFingerprintAsync(id, ct));
    }

    [Fact]
    public async Task ARepeatedPaymentIdIsAppliedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.Succeeds(Place(id));
        var paid = await grain.Succeeds(Pay("pay-1"));
        var rows = await cluster.RowFingerprintAsync(id, ct);

        var again = await grain.Execute(Pay("pay-1"), CommandMetadata.None);
        Assert.True(again.Replayed);
        Assert.Null(again.Error);
        SameView(paid, again.Order);

        await cluster.DeactivateAsync(id);
        again = await grain.Execute(Pay("pay-1"), new CommandMetadata(IdempotencyKey: "a-new-key"));
        Assert.True(again.Replayed);
        SameView(paid, again.Order);

        Assert.Equal(rows, await cluster.RowFingerprintAsync(id, ct));
        var view = Assert.IsType<OrderView>(await grain.Get());
        Assert.Equal((OrderStatus.Paid, Total, 2), (view.Status, view.Paid, view.Version));
    }

    [Fact]
    public async Task ARepeatedRefundIdIsAppliedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay(), Ship(), Deliver());
        var refunded = await grain.Succeeds(Refund("refund-1", 10m));
        var rows = await cluster.RowFingerprintAsync(id, ct);

        var again = await grain.Execute(Refund("refund-1", 10m), CommandMetadata.None);
        Assert.True(again.Replayed);
        Assert.Null(again.Error);
        SameView(refunded, again.Order);

        await cluster.DeactivateAsync(id);
        again = await grain.Execute(Refund("refund-1", 10m), CommandMetadata.None);
        Assert.True(again.Replayed);
        SameView(refunded, again.Order);

        Assert.Equal(rows, await cluster.RowFingerprintAsync(id, ct));
        var view = Assert.IsType<OrderView>(await grain.Get());
        Assert.Equal((OrderStatus.Delivered, 10m, 5), (view.Status, view.Refunded, view.Version));

        // A different refund id is a new refund.
        var second = await grain.Succeeds(Refund("refund-2", 10m));
        Assert.Equal((20m, 6), (second.Refunded, second.Version));
    }

    /// <summary>
    /// A refund retried with its own event time after a later refund (a client retrying after an
    /// unknown outcome): its time is before the order's latest event, which for a new refund is a
    /// validation error; for a repeat it is the same request, answered as applied. The refusal came
    /// first on a warm activation, and on any activation once a snapshot covered the refund.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARefundRetriedWithItsOwnTimeAfterALaterRefundIsAnsweredAsApplied(bool freshActivation)
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id, Ago(TimeSpan.FromHours(1))), Pay(), Ship(), Deliver());
        var delivered = (await grain.Get())!.UpdatedAt;
        await grain.Succeeds(Refund("refund-1", 5m, delivered.AddMilliseconds(1)));
        await grain.Succeeds(Refund("refund-2", 5m, delivered.AddMilliseconds(2)));
        if (freshActivation)
        {
            await cluster.DeactivateAsync(id);
        }

        var again = await grain.Execute(Refund("refund-1", 5m, delivered.AddMilliseconds(1)), CommandMetadata.None);

        Assert.Null(again.Error);
        Assert.True(again.Replayed);
        Assert.Equal((4 + 2, 10m), (again.Order!.Version, again.Order.Refunded));
    }

    [Fact]
    public async Task AKeyFromARefusedCommandIsNotSpent()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.Succeeds(Place(id));
        var key = new CommandMetadata(IdempotencyKey: "key-1");

        var refused = await grain.Execute(Pay(amount: 1m), key);
        Assert.Equal(CommandErrorCode.Unprocessable, refused.Error?.Code);

        var paid = await grain.Succeeds(Pay(), key);
        Assert.Equal(OrderStatus.Paid, paid.Status);
    }

    [Fact]
    public async Task KeysAreScopedToOneOrder()
    {
        var first = NewOrderId();
        var second = NewOrderId();
        var key = new CommandMetadata(IdempotencyKey: "shared-key");

        var a = await cluster.Grain(first).Succeeds(Place(first), key);
        var b = await cluster.Grain(second).Succeeds(Place(second), key);

        Assert.Equal(first, a.OrderId);
        Assert.Equal(second, b.OrderId);
    }
}
