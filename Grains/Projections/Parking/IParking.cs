using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Parking;

/// <summary>What the reconciliation, a rebuild and the projections tell the parked list (key: 0).</summary>
public interface IParking : IGrainWithIntegerKey
{
    /// <summary>
    /// Records a failure of each request (a new record, or one more attempt of a parked one) and
    /// returns, in order, when each is to be retried: the back-off of its attempts, at least its
    /// <see cref="ParkRequest.MinimumDelay"/> from now.
    /// </summary>
    Task<IReadOnlyList<DateTimeOffset>> Park(IReadOnlyList<ParkRequest> requests);

    /// <summary>
    /// Removes the records of what succeeded: projections by key; orders by order id, which also
    /// removes the order's parked events; customers by customer id.
    /// </summary>
    Task Resolve(ParkedKind kind, IReadOnlyList<string> keys);
}
