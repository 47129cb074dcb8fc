using Orleans.Concurrency;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Alerts;

/// <summary>
/// The risk alerts that stand, across customers, raised (by event time) on one day: what
/// GET /api/alerts reads, day after day. Key: see <see cref="StatisticsKeys.AlertDay"/>.
/// </summary>
public interface IAlertFeedGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds or updates <paramref name="raised"/> (by id) and removes <paramref name="withdrawn"/>,
    /// all of this day and of <paramref name="customerId"/>, as the customer's flush persists them;
    /// the customer's live copy (<see cref="ShowLive"/>) made at no more than <paramref name="events"/> is dropped.
    /// </summary>
    /// <param name="events">The events the customer had counted when it took the alerts it sends.</param>
    Task Apply(string customerId, long events, IReadOnlyList<RiskAlert> raised, IReadOnlyList<string> withdrawn);

    /// <summary>
    /// The alerts of <paramref name="customerId"/> that stand on this day as the customer counted
    /// them, ahead of its next flush: shown instead of the customer's persisted alerts of the day
    /// until a flush (<see cref="Apply"/>) made at as many events or more. Kept in memory only; of
    /// two copies the one made at more events is kept, whatever order they arrive in.
    /// </summary>
    /// <param name="events">The events the customer had counted when it evaluated <paramref name="standing"/>.</param>
    [AlwaysInterleave]
    Task ShowLive(string customerId, long events, IReadOnlyList<RiskAlert> standing);

    /// <summary>Alerts of the day raised at or after <paramref name="since"/>, oldest first: live copies over what is persisted.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<RiskAlert>> Since(DateTimeOffset? since, int limit);
}
