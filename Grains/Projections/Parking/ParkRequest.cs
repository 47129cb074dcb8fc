using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Parking;

/// <param name="MinimumDelay">The soonest the caller can retry it (the reconciliation: a change bucket and its settling time).</param>
[GenerateSerializer, Immutable, Alias("orderflow.park-request")]
public sealed record ParkRequest(
    [property: Id(0)] ParkedKind Kind,
    [property: Id(1)] string Key,
    [property: Id(2)] string Subject,
    [property: Id(3)] string Reason,
    [property: Id(4)] TimeSpan MinimumDelay);
