using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics;

/// <summary>The risk alerts that stand, across customers: what GET /api/alerts reads.</summary>
public interface IAlertFeedGrain : IGrainWithStringKey
{
    /// <summary>Adds or updates <paramref name="raised"/> (by id) and removes the alerts whose condition no longer holds.</summary>
    Task Apply(IReadOnlyList<RiskAlert> raised, IReadOnlyList<string> withdrawn);

    /// <summary>Alerts raised (by event time) at or after <paramref name="since"/>, oldest first.</summary>
    Task<IReadOnlyList<RiskAlert>> Since(DateTimeOffset? since, int limit);
}

[GenerateSerializer, Alias("orderflow.alert-feed-state")]
public sealed class AlertFeedState
{
    [Id(0)] public Dictionary<string, RiskAlert> Alerts { get; set; } = [];
}

[GrainType(ProjectionGrainTypes.AlertFeed)]
public sealed class AlertFeedGrain(
    [PersistentState("alerts", StatisticsOptions.StorageName)] IPersistentState<AlertFeedState> state) : Grain, IAlertFeedGrain
{
    /// <summary>The feed keeps this many alerts, dropping the oldest; customers keep their own.</summary>
    public const int MaxAlerts = 10_000;

    public async Task Apply(IReadOnlyList<RiskAlert> raised, IReadOnlyList<string> withdrawn)
    {
        foreach (var alert in raised)
        {
            state.State.Alerts[alert.Id] = alert;
        }

        foreach (var id in withdrawn)
        {
            state.State.Alerts.Remove(id);
        }

        foreach (var oldest in Ordered().Take(Math.Max(0, state.State.Alerts.Count - MaxAlerts)).ToList())
        {
            state.State.Alerts.Remove(oldest.Id);
        }

        await state.WriteOwnStateAsync();
    }

    public Task<IReadOnlyList<RiskAlert>> Since(DateTimeOffset? since, int limit) =>
        Task.FromResult<IReadOnlyList<RiskAlert>>([.. Ordered().Where(a => since is null || a.RaisedAt >= since).Take(limit)]);

    private IEnumerable<RiskAlert> Ordered() =>
        state.State.Alerts.Values.OrderBy(a => a.RaisedAt).ThenBy(a => a.Id, StringComparer.Ordinal);
}
