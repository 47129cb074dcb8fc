namespace OrderFlow.Orders.Commands;

/// <summary>Refund part or all of a delivered order. A repeated <see cref="RefundId"/> is applied once.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.refund-order")]
public sealed record RefundOrder(
    [property: Id(0)] string? RefundId,
    [property: Id(1)] decimal? Amount,
    [property: Id(2)] string? Reason,
    DateTimeOffset? OccurredAt = null) : OrderCommand(OccurredAt);
