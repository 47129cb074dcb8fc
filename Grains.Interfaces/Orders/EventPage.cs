namespace OrderFlow.Orders;

/// <summary>A page of an order's events in version order.</summary>
/// <param name="NextFromVersion">Where the next page starts, or null when this page reached the end of the log.</param>
[GenerateSerializer, Immutable, Alias("orderflow.event-page")]
public sealed record EventPage(
    [property: Id(0)] IReadOnlyList<RecordedEvent> Events,
    [property: Id(1)] int? NextFromVersion);
