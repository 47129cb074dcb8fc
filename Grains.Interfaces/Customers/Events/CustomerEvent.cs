namespace OrderFlow.Customers.Events;

/// <summary>Something that happened to a customer: the customer's state is a fold over these.</summary>
/// <param name="OccurredAt">When it happened in the business (event time), as opposed to when it was recorded.</param>
[GenerateSerializer, Immutable]
public abstract record CustomerEvent([property: Id(0)] DateTimeOffset OccurredAt);
