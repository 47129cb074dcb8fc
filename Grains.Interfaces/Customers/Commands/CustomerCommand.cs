namespace OrderFlow.Customers.Commands;

/// <summary>
/// A request to change a customer. Members are nullable because a missing field is a validation
/// error to report, not a crash.
/// </summary>
/// <param name="OccurredAt">Event time of the resulting event; the server's clock when absent.</param>
[GenerateSerializer, Immutable]
public abstract record CustomerCommand([property: Id(0)] DateTimeOffset? OccurredAt);
