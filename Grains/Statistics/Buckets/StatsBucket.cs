using OrderFlow.Orders.Events;
using OrderFlow.Orders;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Buckets;

/// <summary>
/// What happened in one time bucket (by event time): events by type, orders entering each
/// status, money per currency, and stage latency sketches. Buckets merge exactly, so minutes add
/// up to hours, hours to days, and shards to the whole.
/// </summary>
[GenerateSerializer, Alias("orderflow.stats-bucket")]
public sealed class StatsBucket
{
    /// <summary>Event type (OrderPlaced…) → count.</summary>
    [Id(0)] public Dictionary<string, long> Events { get; set; } = [];

    /// <summary>Status (placed, paid…) → orders that entered it.</summary>
    [Id(1)] public Dictionary<string, long> Entered { get; set; } = [];

    /// <summary>Currency → payments received.</summary>
    [Id(2)] public Dictionary<string, decimal> Revenue { get; set; } = [];

    /// <summary>Currency → refunds made.</summary>
    [Id(3)] public Dictionary<string, decimal> Refunds { get; set; } = [];

    /// <summary>Currency → number of payments (the denominator of the average order value).</summary>
    [Id(4)] public Dictionary<string, long> Payments { get; set; } = [];

    [Id(5)] public LatencyHistogram PlacedToPaid { get; set; } = new();
    [Id(6)] public LatencyHistogram PaidToShipped { get; set; } = new();
    [Id(7)] public LatencyHistogram ShippedToDelivered { get; set; } = new();

    public static string StatusName(OrderStatus status) => status.ToString().ToLowerInvariant();

    public void Add(OrderEventEnvelope e)
    {
        Increment(Events, e.Type, 1);
        if (e.EntersStatus)
        {
            Increment(Entered, StatusName(e.StatusAfter), 1);
        }

        switch (e.Type)
        {
            case OrderPaid.StoredName:
                Increment(Revenue, e.Currency, e.Amount);
                Increment(Payments, e.Currency, 1);
                if (e.SecondsSincePlaced is { } placedToPaid)
                {
                    PlacedToPaid.Add(placedToPaid);
                }

                break;
            case OrderRefunded.StoredName:
                Increment(Refunds, e.Currency, e.Amount);
                break;
            case OrderShipped.StoredName when e.SecondsSincePaid is { } paidToShipped:
                PaidToShipped.Add(paidToShipped);
                break;
            case OrderDelivered.StoredName when e.SecondsSinceShipped is { } shippedToDelivered:
                ShippedToDelivered.Add(shippedToDelivered);
                break;
        }
    }

    public StatsBucket Merge(StatsBucket other)
    {
        foreach (var (key, value) in other.Events) Increment(Events, key, value);
        foreach (var (key, value) in other.Entered) Increment(Entered, key, value);
        foreach (var (key, value) in other.Revenue) Increment(Revenue, key, value);
        foreach (var (key, value) in other.Refunds) Increment(Refunds, key, value);
        foreach (var (key, value) in other.Payments) Increment(Payments, key, value);
        PlacedToPaid.Merge(other.PlacedToPaid);
        PaidToShipped.Merge(other.PaidToShipped);
        ShippedToDelivered.Merge(other.ShippedToDelivered);
        return this;
    }

    public long EnteredCount(OrderStatus status) => Entered.GetValueOrDefault(StatusName(status));

    public static StatsBucket MergeAll(IEnumerable<StatsBucket> buckets) =>
        buckets.Aggregate(new StatsBucket(), (total, bucket) => total.Merge(bucket));

    private static void Increment<T>(Dictionary<string, T> map, string key, T amount)
        where T : System.Numerics.INumber<T> =>
        map[key] = map.GetValueOrDefault(key, T.Zero) + amount;
}
