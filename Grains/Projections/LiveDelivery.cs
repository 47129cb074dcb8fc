namespace OrderFlow.Grains.Projections;

/// <summary>
/// What <see cref="ProjectionRegistry.DeliverAsync"/> did with a live batch: the projection grains
/// it was sent to and those whose call failed, each by the key it is parked under (its grain id).
/// </summary>
public sealed record LiveDelivery(IReadOnlyCollection<string> SentTo, IReadOnlyList<(string Key, Exception Error)> Failures);
