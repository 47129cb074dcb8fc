using OrderFlow.Orders;

namespace OrderFlow.Grains.Statistics.Buckets;

/// <summary>
/// The figures of one time-series bucket (API.md <c>/api/stats/timeseries</c>): orders entering
/// each status, revenue and refunds. A fixed handful of numbers, so a month can keep one per hour.
/// </summary>
[GenerateSerializer, Alias("orderflow.series-totals")]
public sealed class SeriesTotals
{
    /// <summary>Status (placed, paid…) → orders that entered it.</summary>
    [Id(0)] public Dictionary<string, long> Entered { get; set; } = [];

    /// <summary>Payments received, currencies added together (as the time series shows them).</summary>
    [Id(1)] public decimal Revenue { get; set; }

    /// <summary>Refunds made, currencies added together.</summary>
    [Id(2)] public decimal Refunds { get; set; }

    public long EnteredCount(OrderStatus status) => Entered.GetValueOrDefault(StatsBucket.StatusName(status));

    public SeriesTotals Merge(SeriesTotals other)
    {
        foreach (var (status, count) in other.Entered)
        {
            Entered[status] = Entered.GetValueOrDefault(status) + count;
        }

        Revenue += other.Revenue;
        Refunds += other.Refunds;
        return this;
    }

    public static SeriesTotals Of(IEnumerable<StatsBucket> buckets)
    {
        var totals = new SeriesTotals();
        foreach (var bucket in buckets)
        {
            totals.Merge(new SeriesTotals
            {
                Entered = bucket.Entered,
                Revenue = bucket.Revenue.Values.Sum(),
                Refunds = bucket.Refunds.Values.Sum(),
            });
        }

        return totals;
    }
}
