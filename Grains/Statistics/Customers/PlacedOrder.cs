namespace OrderFlow.Grains.Statistics.Customers;

[GenerateSerializer, Alias("orderflow.placed-order")]
public sealed record PlacedOrder([property: Id(0)] string OrderId, [property: Id(1)] DateTimeOffset At, [property: Id(2)] decimal Total);
