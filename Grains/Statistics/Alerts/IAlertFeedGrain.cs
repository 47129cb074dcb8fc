using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Alerts;

/// <summary>
/// The risk alerts that stand, across customers, raised (by event time) on one day: what
/// GET /api/alerts reads, day after day. Key: see <see cref="StatisticsKeys.AlertDay"/>.
/// </summary>
public interface IAlertFeedGrain : IGrainWithStringKey
{
    /// <summary>Adds or updates <paramref name="raised"/> (by id) and removes <paramref name="withdrawn"/>, all of this day.</summary>
    Task Apply(IReadOnlyList<RiskAlert> raised, IReadOnlyList<string> withdrawn);

    /// <summary>Alerts of the day raised at or after <paramref name="since"/>, oldest first.</summary>
    Task<IReadOnlyList<RiskAlert>> Since(DateTimeOffset? since, int limit);
}
