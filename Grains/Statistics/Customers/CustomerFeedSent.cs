using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>What a customer has sent the alert feed (<see cref="CustomerStatsState.InFeed"/>, <see cref="CustomerStatsState.FeedDays"/>), as a journal entry carries it: not derived from the events.</summary>
[GenerateSerializer, Alias("orderflow.customer-feed-sent")]
public sealed record CustomerFeedSent(
    [property: Id(0)] Dictionary<string, RiskAlert> InFeed,
    [property: Id(1)] Dictionary<string, HashSet<DateOnly>> FeedDays);
