namespace OrderFlow.Orders.Commands;

/// <summary>Cancel a placed or paid order; a paid order is refunded in full by the same command.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.cancel-order")]
public sealed record CancelOrder(
    [property: Id(0)] string? Reason,
    DateTimeOffset? OccurredAt = null) : OrderCommand(OccurredAt);
