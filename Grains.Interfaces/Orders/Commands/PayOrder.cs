namespace OrderFlow.Orders.Commands;

/// <summary>Pay a placed order in full. A repeated <see cref="PaymentId"/> is applied once.</summary>
[GenerateSerializer, Immutable, Alias("orderflow.pay-order")]
public sealed record PayOrder(
    [property: Id(0)] string? PaymentId,
    [property: Id(1)] decimal? Amount,
    [property: Id(2)] string? Method,
    DateTimeOffset? OccurredAt = null) : OrderCommand(OccurredAt);
