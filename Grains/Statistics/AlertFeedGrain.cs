using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics;

/// <summary>Every risk alert, newest kept: what GET /api/alerts reads.</summary>
public interface IAlertFeedGrain : IGrainWithStringKey
{
    /// <summary>Adds alerts not seen before (by id).</summary>
    Task Raise(IReadOnlyList<RiskAlert> alerts);

    Task<IReadOnlyList<RiskAlert>> Since(DateTimeOffset? since, int limit);
}

[GenerateSerializer, Alias("orderflow.alert-feed-state")]
public sealed class AlertFeedState
{
    [Id(0)] public List<RiskAlert> Alerts { get; set; } = [];
}

public sealed class AlertFeedGrain(
    [PersistentState("alerts", StatisticsOptions.StorageName)] IPersistentState<AlertFeedState> state) : Grain, IAlertFeedGrain
{
    /// <summary>The feed keeps this many alerts; older ones stay visible in the customers' rules.</summary>
    public const int MaxAlerts = 10_000;

    public async Task Raise(IReadOnlyList<RiskAlert> alerts)
    {
        var known = state.State.Alerts.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var added = alerts.Where(a => known.Add(a.Id)).ToList();
        if (added.Count == 0)
        {
            return;
        }

        state.State.Alerts.AddRange(added);
        if (state.State.Alerts.Count > MaxAlerts)
        {
            state.State.Alerts.RemoveRange(0, state.State.Alerts.Count - MaxAlerts);
        }

        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<RiskAlert>> Since(DateTimeOffset? since, int limit) =>
        Task.FromResult<IReadOnlyList<RiskAlert>>([.. state.State.Alerts.Where(a => since is null || a.RaisedAt >= since).Take(limit)]);
}
