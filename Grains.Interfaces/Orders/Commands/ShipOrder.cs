namespace OrderFlow.Orders.Commands;

/// <summary>Ship a paid order.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.ship-order")]
public sealed record ShipOrder(
    [property: Id(0)] string? Carrier,
    [property: Id(1)] string? TrackingNumber,
    DateTimeOffset? OccurredAt = null) : OrderCommand(OccurredAt);
