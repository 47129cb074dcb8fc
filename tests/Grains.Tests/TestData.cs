using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Testing.Orders;

namespace OrderFlow.Grains.Tests;

/// <summary>Commands and assertions shared by the grain tests.</summary>
internal static class TestData
{
    /// <summary>2 × 10.50 + 1 × 3.25.</summary>
    public const decimal Total = 24.25m;

    public static readonly IReadOnlyList<OrderLineRequest> Items =
    [
        new("sku-a", 2, 10.50m),
        new("sku-b", 1, 3.25m),
    ];

    public static string NewOrderId() => "order-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A moment <paramref name="ago"/> before now, to the millisecond (the precision events keep).</summary>
    public static DateTimeOffset Ago(TimeSpan ago)
    {
        var time = DateTimeOffset.UtcNow - ago;
        return new DateTimeOffset(time.Ticks - (time.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    public static PlaceOrder Place(string orderId, DateTimeOffset? at = null) => TestCommands.Place(orderId, "customer-1", Items, at);

    public static PayOrder Pay(string paymentId = "pay-1", decimal amount = Total, DateTimeOffset? at = null) => TestCommands.Pay(paymentId, amount, at);

    public static ShipOrder Ship(DateTimeOffset? at = null) => TestCommands.Ship("dhl", "track-1", at);

    public static DeliverOrder Deliver(DateTimeOffset? at = null) => TestCommands.Deliver(at);

    public static CancelOrder Cancel(DateTimeOffset? at = null) => TestCommands.Cancel("changed my mind", at);

    public static RefundOrder Refund(string refundId, decimal amount, DateTimeOffset? at = null) => TestCommands.Refund(refundId, amount, "damaged", at);

    /// <summary>Runs the command and asserts that it succeeded; returns the order after it.</summary>
    public static async Task<OrderView> Succeeds(this IOrderGrain grain, OrderCommand command, CommandMetadata? metadata = null)
    {
        var result = await grain.Execute(command, metadata ?? CommandMetadata.None);
        Assert.True(result.Error is null, $"{command.GetType().Name} was refused: {result.Error?.Code} {result.Error?.Detail}");
        Assert.False(result.Replayed, $"{command.GetType().Name} was unexpectedly answered as a replay.");
        return Assert.IsType<OrderView>(result.Order);
    }

    /// <summary>Runs the commands in order; returns the order after the last.</summary>
    public static async Task<OrderView> SucceedAll(this IOrderGrain grain, params OrderCommand[] commands)
    {
        OrderView? view = null;
        foreach (var command in commands)
        {
            view = await grain.Succeeds(command);
        }

        return view ?? throw new ArgumentException("No commands.", nameof(commands));
    }

    /// <summary>Views are records, but <see cref="OrderView.Items"/> is an ImmutableArray (reference equality): compare by value.</summary>
    public static void SameView(OrderView expected, OrderView? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Items = default }, actual with { Items = default });
        Assert.Equal(expected.Items, actual.Items);
    }
}
