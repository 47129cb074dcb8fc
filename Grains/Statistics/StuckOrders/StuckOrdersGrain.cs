using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Serialization.Invocation;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Orders;
using OrderFlow.Statistics;
using OrderFlow.Streams;
using OrderFlow.Grains.Projections;

namespace OrderFlow.Grains.Statistics.StuckOrders;

/// <summary>
/// Keeps, per order, only its latest version's status: an older or repeated event never moves an
/// order back. Closed orders are remembered for <see cref="StatisticsOptions.ClosedOrderMemory"/>
/// so that a late duplicate cannot reopen them, then forgotten to keep the state bounded. Writes
/// behind (<see cref="WriteBehindProjectionGrain"/>).
/// </summary>
[GrainType(ProjectionGrainTypes.StuckOrders)]
[MayInterleave(nameof(MayInterleave))]
public sealed class StuckOrdersGrain(
    [PersistentState("stuck", StatisticsOptions.StorageName)] IPersistentState<StuckOrdersState> state,
    IOptions<StatisticsOptions> options,
    UnflushedProjections unflushed,
    TimeProvider time,
    ILogger<StuckOrdersGrain> logger) : WriteBehindProjectionGrain(unflushed, options, logger), IStuckOrdersGrain
{
    /// <summary>Counts every order event, in the partition of its order.</summary>
    public static readonly ProjectionDefinition Projection = ProjectionDefinition.Of(ProjectionGrainTypes.StuckOrders)
        .ConsumesAll(EventCategories.Orders, (generation, envelope) => StatisticsKeys.StuckOrdersOf(generation, envelope.OrderId))
        .DescribedAs(key => $"stuck orders, partition {StatisticsKeys.AfterGeneration(key)} (generation {StatisticsKeys.GenerationOf(key)})");

    protected override bool Count(OrderEventEnvelope envelope) => Counted(state.State.Count(envelope, time.GetUtcNow()));

    /// <summary>
    /// A closed order read back from the log is remembered from when the log recorded it, at the latest
    /// (<see cref="StuckOrdersState.CountReadBack"/>).
    /// </summary>
    protected override bool CountReadBack(OrderEventEnvelope envelope) => Counted(state.State.CountReadBack(envelope, time.GetUtcNow()));

    private bool Counted(bool counted)
    {
        if (counted)
        {
            Changed();
        }

        return counted;
    }

    /// <summary>
    /// Live batches and queries run while a flush awaits storage (<see cref="WriteBehindProjectionGrain"/>'s
    /// remarks): a flush is one write of the state as it is when it starts.
    /// </summary>
    public static bool MayInterleave(IInvokable request) =>
        IsLiveBatch(request) || request.GetMethodName() == nameof(Find);

    /// <summary>
    /// Closed orders past their memory are forgotten as a flush begins: a pass over every closed
    /// order of the partition, made once per event it made a rebuild's cost grow with the square
    /// of the orders it read.
    /// </summary>
    protected override Task PersistAsync(CancellationToken cancellationToken)
    {
        state.State.ForgetClosedBefore(time.GetUtcNow() - Settings.ClosedOrderMemory);
        return state.WriteOwnStateAsync(this, cancellationToken);
    }

    public Task<IReadOnlyList<StuckOrder>> Find(OrderStatus status, DateTimeOffset enteredBefore, int limit) =>
        Task.FromResult<IReadOnlyList<StuckOrder>>([.. StuckOrdersGrain.Oldest(state.State.Open
            .Where(pair => pair.Value.Status == status && pair.Value.Since <= enteredBefore)
            .Select(pair => new StuckOrder(pair.Key, pair.Value.Status, pair.Value.Since)), limit)]);

    /// <summary>The first <paramref name="limit"/> of <paramref name="orders"/>, longest in their status first, then by order id: the order of the stuck-orders query.</summary>
    public static IEnumerable<StuckOrder> Oldest(IEnumerable<StuckOrder> orders, int limit) =>
        orders.OrderBy(o => o.Since).ThenBy(o => o.OrderId, StringComparer.Ordinal).Take(limit);
}
