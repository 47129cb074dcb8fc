namespace OrderFlow.Orders.Commands;

/// <summary>Record that a shipped order reached the customer.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.deliver-order")]
public sealed record DeliverOrder(DateTimeOffset? OccurredAt = null) : OrderCommand(OccurredAt);
