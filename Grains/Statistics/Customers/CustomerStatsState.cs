using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Customers;

[GenerateSerializer, Alias("orderflow.customer-stats-state")]
public sealed class CustomerStatsState
{
    [Id(0)] public long Orders { get; set; }
    [Id(1)] public decimal Spend { get; set; }
    [Id(2)] public long Cancellations { get; set; }
    [Id(3)] public long Refunds { get; set; }
    [Id(4)] public decimal RefundedAmount { get; set; }

    /// <summary>Orders that ended cancelled or fully refunded, with the event time of that ending.</summary>
    [Id(5)] public Dictionary<string, DateTimeOffset> BadEndings { get; set; } = [];

    /// <summary>Placement time and total of every order, for the velocity and large-order rules.</summary>
    [Id(6)] public List<PlacedOrder> Placed { get; set; } = [];

    /// <summary>The alerts that stand now, by id.</summary>
    [Id(7)] public Dictionary<string, RiskAlert> Alerts { get; set; } = [];

    [Id(9)] public CountedEvents Counted { get; set; } = new();

    /// <summary>The alerts as last applied to the <see cref="AlertFeedGrain"/>.</summary>
    [Id(10)] public Dictionary<string, RiskAlert> InFeed { get; set; } = [];

    /// <summary>
    /// Alert id → the days' feeds it may be in. Recorded before an alert is raised on a day, and
    /// narrowed only once every other day has confirmed its withdrawal, so that an alert whose day
    /// moved is withdrawn everywhere even after a partial failure or a crash.
    /// </summary>
    [Id(11)] public Dictionary<string, HashSet<DateOnly>> FeedDays { get; set; } = [];

    /// <summary>The customer id, as the events carry it: the grain key holds only a hash of a very long one (<see cref="StatisticsKeys.Customer"/>).</summary>
    [Id(12)] public string? CustomerId { get; set; }

    /// <summary>Which customer events were counted, by (customer id, version): apart from <see cref="Counted"/>, whose ids are order ids.</summary>
    [Id(13)] public CountedEvents CountedCustomerEvents { get; set; } = new();

    /// <summary>The join of the customer's registration with their large orders, for rule new-account-large-order.</summary>
    [Id(14)] public NewAccountLargeOrders NewAccount { get; set; } = new();
}
