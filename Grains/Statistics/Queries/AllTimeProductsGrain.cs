using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Queries;

/// <summary>
/// Keeps every month's product sales of its generation between queries (<see cref="AllTimeProducts"/>)
/// and asks each month of each shard only for what changed since it read it. One activation in the
/// cluster, so that the sales are held once, not by every query activation of every silo, and every
/// API node's queries find what the last one read; it answers one query at a time.
/// </summary>
public sealed class AllTimeProductsGrain : Grain, IAllTimeProductsGrain
{
    private readonly AllTimeProducts sums = new();

    public async Task<ProductsReport> Top(int top, bool byQuantity)
    {
        var generation = checked((int)this.GetPrimaryKeyLong());
        var months = (await GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)).Months())
            .SelectMany(month => Enumerable.Range(0, OrderEventStreams.ShardCount).Select(shard => StatisticsKeys.Month(generation, shard, month)))
            .ToList();
        var answers = await Task.WhenAll(months.Select(month => GrainFactory.GetGrain<IMonthStatsGrain>(month).GetProductsIfChanged(sums.VersionOf(month))));
        sums.Update([.. months.Zip(answers)]);
        return sums.Top(top, byQuantity);
    }
}
