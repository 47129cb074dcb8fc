namespace OrderFlow.Orders.Events;

/// <summary>Money went back to the customer: part of a delivered order, or all of a cancelled paid one.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.order-refunded")]
public sealed record OrderRefunded(
    DateTimeOffset OccurredAt,
    [property: Id(0)] string RefundId,
    [property: Id(1)] decimal Amount,
    [property: Id(2)] string Reason) : OrderEvent(OccurredAt);
