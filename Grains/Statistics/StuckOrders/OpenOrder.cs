using OrderFlow.Orders;

namespace OrderFlow.Grains.Statistics.StuckOrders;

[GenerateSerializer, Alias("orderflow.open-order")]
public sealed record OpenOrder([property: Id(0)] OrderStatus Status, [property: Id(1)] DateTimeOffset Since, [property: Id(2)] int Version);
