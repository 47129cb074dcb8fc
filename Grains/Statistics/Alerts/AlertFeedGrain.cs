using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Statistics;
using OrderFlow.Grains.Projections;

namespace OrderFlow.Grains.Statistics.Alerts;

/// <remarks>
/// One grain per day keeps each one's state small: a single feed of every alert, capped at 10,000,
/// could not have held more than about 3,000 alerts of 240 bytes in its entity. A day keeps
/// <see cref="MaxAlerts"/>; customers keep their own alerts whatever the feed drops.
/// </remarks>
[GrainType(ProjectionGrainTypes.AlertFeed)]
public sealed class AlertFeedGrain(
    [PersistentState("alerts", StatisticsOptions.StorageName)] IPersistentState<AlertFeedState> state) : Grain, IAlertFeedGrain
{
    /// <summary>Fed by the customers' grains (<see cref="Customers.CustomerStatsGrain"/>), not by streams.</summary>
    public static readonly ProjectionDefinition Projection = ProjectionDefinition.Of(ProjectionGrainTypes.AlertFeed);

    /// <summary>
    /// Alerts a day keeps, dropping its earliest: 1,500 of the largest possible (64-character
    /// customer and order ids, about 480 bytes each) fill about 700 KiB of the entity
    /// (<c>ProjectionCapacityTests</c>).
    /// </summary>
    public const int MaxAlerts = 1_500;

    /// <summary>Whether the catalog lists this day, as far as this activation knows (null: not known, an earlier activation may have listed it, or a call failed).</summary>
    private bool? listed;

    /// <summary>One catalog call at a time (<see cref="ShowLive"/> interleaves): so the catalog takes them in the order sent, and <see cref="listed"/> says what it holds.</summary>
    private readonly SemaphoreSlim catalogTurn = new(1, 1);

    /// <summary>The alerts in memory hold a change whose write failed.</summary>
    private bool unsaved;

    /// <summary>Customer id → the customer's alerts of this day as counted, newer than its last flush here (<see cref="IAlertFeedGrain.ShowLive"/>).</summary>
    private readonly Dictionary<string, LiveAlerts> live = new(StringComparer.Ordinal);

    /// <summary>Customer id → the events its latest flush here was made at: a live copy made at no more is older than what is persisted.</summary>
    private readonly Dictionary<string, long> flushedAt = new(StringComparer.Ordinal);

    public async Task Apply(string customerId, long events, IReadOnlyList<RiskAlert> raised, IReadOnlyList<string> withdrawn)
    {
        // Before any await: a live copy this flush supersedes is never shown beside what it persists.
        flushedAt[customerId] = Math.Max(events, flushedAt.GetValueOrDefault(customerId));
        if (live.TryGetValue(customerId, out var shown) && shown.Events <= events)
        {
            live.Remove(customerId);
        }

        var changed = false;
        foreach (var alert in raised)
        {
            if (!state.State.Alerts.TryGetValue(alert.Id, out var held) || held != alert)
            {
                state.State.Alerts[alert.Id] = alert;
                changed = true;
            }
        }

        foreach (var id in withdrawn)
        {
            changed |= state.State.Alerts.Remove(id);
        }

        // Unchanged: a flush that only settles live copies, or a repeat; nothing to write, unless an
        // earlier change never reached storage (the customer sends it again after a failed flush,
        // and finds it applied in memory).
        if (changed || unsaved)
        {
            foreach (var oldest in Ordered(state.State.Alerts.Values).Take(Math.Max(0, state.State.Alerts.Count - MaxAlerts)).ToList())
            {
                state.State.Alerts.Remove(oldest.Id);
            }

            unsaved = true;
            await state.WriteOwnStateAsync(this);
            unsaved = false;
        }

        await ListAsync();
    }

    public async Task ShowLive(string customerId, long events, IReadOnlyList<RiskAlert> standing)
    {
        if (flushedAt.GetValueOrDefault(customerId, -1) >= events || (live.TryGetValue(customerId, out var shown) && shown.Events >= events))
        {
            return; // older than what this day already shows of the customer
        }

        live[customerId] = new LiveAlerts(events, standing);
        await ListAsync(); // so that the alert queries read a day whose alerts are all live yet
    }

    /// <summary>
    /// Lists the day in the catalog while it shows alerts, and takes it off once it shows none (all
    /// withdrawn, or moved to another day), so that the alert queries, which read the listed days in
    /// order, do not read empty days for ever. What the day shows is looked at once this call has
    /// the catalog's turn: a change made meanwhile by an interleaving call is seen by its own call,
    /// which comes after.
    /// </summary>
    private async Task ListAsync()
    {
        await catalogTurn.WaitAsync();
        try
        {
            var shows = Standing().Any();
            if (listed != shows)
            {
                var (catalog, day) = Catalog();
                listed = null;
                await (shows ? catalog.RegisterAlertDay(day) : catalog.UnregisterAlertDay(day));
                listed = shows;
            }
        }
        finally
        {
            catalogTurn.Release();
        }
    }

    private (IStatsCatalogGrain Catalog, DateOnly Day) Catalog()
    {
        var (generation, day) = StatisticsKeys.ParseAlertDay(this.GetPrimaryKeyString());
        return (GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)), day);
    }

    public Task<IReadOnlyList<RiskAlert>> Since(DateTimeOffset? since, int limit)
    {
        var standing = Ordered(Standing()).ToList();

        // As many as the day keeps: live copies may add some before a flush drops the earliest.
        return Task.FromResult<IReadOnlyList<RiskAlert>>([.. standing.Skip(Math.Max(0, standing.Count - MaxAlerts)).Where(a => since is null || a.RaisedAt >= since).Take(limit)]);
    }

    /// <summary>What the day shows: of each customer with a live copy, that copy; of every other, its persisted alerts.</summary>
    private IEnumerable<RiskAlert> Standing() =>
        state.State.Alerts.Values.Where(alert => !live.ContainsKey(alert.CustomerId))
            .Concat(live.Values.SelectMany(copy => copy.Alerts))
            .DistinctBy(alert => alert.Id, StringComparer.Ordinal);

    private static IEnumerable<RiskAlert> Ordered(IEnumerable<RiskAlert> alerts) =>
        alerts.OrderBy(a => a.RaisedAt).ThenBy(a => a.Id, StringComparer.Ordinal);

    /// <summary>A customer's alerts of the day as it counted them at <see cref="Events"/> events.</summary>
    private sealed record LiveAlerts(long Events, IReadOnlyList<RiskAlert> Alerts);

    /// <summary>The day an alert belongs to: the UTC day of its <see cref="RiskAlert.RaisedAt"/>.</summary>
    public static DateOnly DayOf(RiskAlert alert) => DateOnly.FromDateTime(alert.RaisedAt.UtcDateTime);

    /// <summary>
    /// What to send each day's feed to take it to <paramref name="now"/>: the alerts new or changed
    /// since <paramref name="inFeed"/> (as last applied) are raised on their day, and every alert is
    /// withdrawn from every other day it may be in (<paramref name="feedDays"/>): an alert whose
    /// day changed (its triggering event did) is withdrawn from the old day and raised on the new.
    /// </summary>
    public static Dictionary<DateOnly, (List<RiskAlert> Raised, List<string> Withdrawn)> Changes(
        IReadOnlyDictionary<string, HashSet<DateOnly>> feedDays, IReadOnlyDictionary<string, RiskAlert> inFeed, IReadOnlyDictionary<string, RiskAlert> now)
    {
        var changes = new Dictionary<DateOnly, (List<RiskAlert> Raised, List<string> Withdrawn)>();
        (List<RiskAlert> Raised, List<string> Withdrawn) On(DateOnly day) =>
            changes.TryGetValue(day, out var change) ? change : changes[day] = ([], []);

        foreach (var alert in now.Values.Where(a => !inFeed.TryGetValue(a.Id, out var old) || old != a))
        {
            On(DayOf(alert)).Raised.Add(alert);
        }

        // The days recorded, and the day of the alert as last applied (which is among them, except
        // in a customer's state written before days were recorded).
        foreach (var id in feedDays.Keys.Union(inFeed.Keys))
        {
            var standingOn = now.TryGetValue(id, out var current) ? DayOf(current) : (DateOnly?)null;
            var mayBeOn = feedDays.TryGetValue(id, out var days) ? new HashSet<DateOnly>(days) : [];
            if (inFeed.TryGetValue(id, out var applied))
            {
                mayBeOn.Add(DayOf(applied));
            }

            foreach (var day in mayBeOn.Where(day => day != standingOn))
            {
                On(day).Withdrawn.Add(id);
            }
        }

        return changes;
    }
}
