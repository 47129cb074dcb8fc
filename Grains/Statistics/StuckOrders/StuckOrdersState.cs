namespace OrderFlow.Grains.Statistics.StuckOrders;

[GenerateSerializer, Alias("orderflow.stuck-orders-state")]
public sealed class StuckOrdersState
{
    /// <summary>Orders still moving (placed, paid, shipped): status, since, version.</summary>
    [Id(0)] public Dictionary<string, OpenOrder> Open { get; set; } = [];

    /// <summary>Orders that reached delivered, cancelled or refunded: their version and when that was seen.</summary>
    [Id(1)] public Dictionary<string, ClosedOrder> Closed { get; set; } = [];
}
