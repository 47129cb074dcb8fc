namespace OrderFlow.Orders.Commands;

/// <summary>
/// A request to change an order. Commands carry what the client sent, unvalidated: members are
/// nullable because a missing field is a validation error to report, not a crash.
/// </summary>
/// <param name="OccurredAt">Event time of the resulting event(s); the server's clock when absent.</param>
[GenerateSerializer, Immutable]
public abstract record OrderCommand([property: Id(0)] DateTimeOffset? OccurredAt);
