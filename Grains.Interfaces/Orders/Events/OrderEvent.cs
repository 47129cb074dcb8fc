namespace OrderFlow.Orders.Events;

/// <summary>
/// Something that happened to an order. Events are the truth: the order's state is a fold over them.
/// </summary>
/// <param name="OccurredAt">When it happened in the business (event time), as opposed to when it was recorded.</param>
[GenerateSerializer, Immutable]
public abstract record OrderEvent([property: Id(0)] DateTimeOffset OccurredAt);
