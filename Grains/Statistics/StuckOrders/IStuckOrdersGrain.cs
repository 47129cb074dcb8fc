using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Orders;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.StuckOrders;

/// <summary>The open orders of one partition (see <see cref="StatisticsKeys.StuckOrderPartitions"/>) and since when they are in their status.</summary>
public interface IStuckOrdersGrain : IWriteBehindProjection
{
    /// <summary>Orders in <paramref name="status"/> whose status began at or before <paramref name="enteredBefore"/>.</summary>
    Task<IReadOnlyList<StuckOrder>> Find(OrderStatus status, DateTimeOffset enteredBefore);
}
