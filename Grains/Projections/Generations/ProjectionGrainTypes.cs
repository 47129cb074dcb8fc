using OrderFlow.Grains.Statistics;

namespace OrderFlow.Grains.Projections.Generations;

/// <summary>
/// The grain types whose state belongs to one projection generation (their keys start with it,
/// see <see cref="StatisticsKeys"/>). Pinned with <see cref="GrainTypeAttribute"/>, so that a class
/// rename cannot orphan stored state; each is declared in <see cref="ProjectionRegistry"/>, where
/// <see cref="ProjectionStateJanitor"/> finds every one.
/// </summary>
public static class ProjectionGrainTypes
{
    public const string Day = "daystats";
    public const string Month = "monthstats";
    public const string Customer = "customerstats";
    public const string StuckOrders = "stuckorders";
    public const string Catalog = "statscatalog";
    public const string AlertFeed = "alertfeed";
}
