namespace OrderFlow.Grains.Statistics.StuckOrders;

[GenerateSerializer, Alias("orderflow.closed-order")]
public sealed record ClosedOrder([property: Id(0)] int Version, [property: Id(1)] DateTimeOffset SeenAt);
