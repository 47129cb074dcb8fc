using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Orders;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.StuckOrders;

/// <summary>The open orders of one partition (see <see cref="StatisticsKeys.StuckOrderPartitions"/>) and since when they are in their status.</summary>
public interface IStuckOrdersGrain : IWriteBehindProjection
{
    /// <summary>
    /// The <paramref name="limit"/> orders in <paramref name="status"/> longest in it, whose status
    /// began at or before <paramref name="enteredBefore"/>: oldest first, then by order id. A query
    /// asks every partition for its first <paramref name="limit"/>, so what it receives stays bounded
    /// by the limit however many orders stand still.
    /// </summary>
    Task<IReadOnlyList<StuckOrder>> Find(OrderStatus status, DateTimeOffset enteredBefore, int limit);
}
