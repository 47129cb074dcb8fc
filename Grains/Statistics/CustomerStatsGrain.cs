using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>One customer's orders, spend, cancellations and refunds, and the risk rules that fired.</summary>
public interface ICustomerStatsGrain : IWriteBehindProjection
{
    /// <summary>Null when no order of the customer was seen.</summary>
    Task<CustomerReport?> Get();
}

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
}

[GenerateSerializer, Alias("orderflow.placed-order")]
public sealed record PlacedOrder([property: Id(0)] string OrderId, [property: Id(1)] DateTimeOffset At, [property: Id(2)] decimal Total);

/// <summary>
/// Keeps a customer's totals and evaluates the risk rules (<see cref="RiskRules"/>). Writes behind
/// (<see cref="WriteBehindProjectionGrain"/>): the rules are evaluated once per flush (or when read), not per
/// event, and each flush sends the alerts that started or stopped standing to the
/// <see cref="AlertFeedGrain"/> before persisting, so that a crash in between sends them again
/// rather than never.
/// </summary>
[GrainType(ProjectionGrainTypes.Customer)]
public sealed class CustomerStatsGrain(
    [PersistentState("customer", StatisticsOptions.StorageName)] IPersistentState<CustomerStatsState> state,
    IOptions<StatisticsOptions> options,
    UnflushedProjections unflushed,
    ILogger<CustomerStatsGrain> logger) : WriteBehindProjectionGrain(unflushed, options, logger), ICustomerStatsGrain
{
    private bool alertsStale;

    /// <summary><see cref="CustomerStatsState.FeedDays"/> as in memory is in storage: an alert is raised on a day only once that day is recorded there.</summary>
    private bool feedDaysStored = true;

    private string CustomerId => state.State.CustomerId ?? StatisticsKeys.CustomerIdOf(this.GetPrimaryKeyString()) ?? string.Empty;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        if (!AlertsEqual(state.State.Alerts, state.State.InFeed))
        {
            Changed(); // the feed may not have what was persisted last time
        }
    }


    protected override bool Count(OrderEventEnvelope envelope)
    {
        var s = state.State;
        if (!s.Counted.TryMark(envelope.OrderId, envelope.Version))
        {
            return false;
        }

        s.CustomerId ??= envelope.CustomerId;

        switch (envelope.Type)
        {
            case OrderPlaced.StoredName:
                s.Orders++;
                s.Placed.Add(new PlacedOrder(envelope.OrderId, envelope.OccurredAt, envelope.OrderTotal));
                break;
            case OrderPaid.StoredName:
                s.Spend += envelope.Amount;
                break;
            case OrderCancelled.StoredName:
                s.Cancellations++;
                break;
            case OrderRefunded.StoredName:
                s.Refunds++;
                s.RefundedAmount += envelope.Amount;
                break;
        }

        if (envelope.EntersStatus && envelope.StatusAfter is OrderStatus.Cancelled or OrderStatus.Refunded)
        {
            s.BadEndings[envelope.OrderId] = envelope.OccurredAt;
        }

        alertsStale = true;
        Changed();
        return true;
    }

    public Task<CustomerReport?> Get()
    {
        var s = state.State;
        if (s.Counted.Orders == 0)
        {
            return Task.FromResult<CustomerReport?>(null);
        }

        RefreshAlerts();
        var rules = s.Alerts.Values.Select(a => a.Rule).Distinct().Order(StringComparer.Ordinal).ToList();
        return Task.FromResult<CustomerReport?>(new CustomerReport(
            CustomerId, s.Orders, s.Spend, s.Cancellations, s.Refunds, s.RefundedAmount, RiskRules.Score(rules), rules));
    }

    private void RefreshAlerts()
    {
        if (alertsStale)
        {
            state.State.Alerts = RiskRules.Evaluate(CustomerId, state.State, Settings.Risk).ToDictionary(a => a.Id, StringComparer.Ordinal);
            alertsStale = false;
        }
    }

    protected override async Task PersistAsync(CancellationToken cancellationToken)
    {
        RefreshAlerts();
        var s = state.State;
        var changes = AlertFeedGrain.Changes(s.FeedDays, s.InFeed, s.Alerts);
        if (changes.Count > 0)
        {
            foreach (var (day, change) in changes)
            {
                foreach (var alert in change.Raised)
                {
                    if ((s.FeedDays.TryGetValue(alert.Id, out var days) ? days : s.FeedDays[alert.Id] = []).Add(day))
                    {
                        feedDaysStored = false;
                    }
                }
            }

            if (!feedDaysStored)
            {
                await state.WriteOwnStateAsync(cancellationToken); // where the alerts may be, before they are
                feedDaysStored = true;
            }

            var generation = StatisticsKeys.GenerationOf(this.GetPrimaryKeyString());
            await Task.WhenAll(changes.Select(change => GrainFactory.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(generation, change.Key))
                .Apply(change.Value.Raised, change.Value.Withdrawn)));
            s.InFeed = new Dictionary<string, RiskAlert>(s.Alerts, StringComparer.Ordinal);
            s.FeedDays = s.Alerts.Values.ToDictionary(alert => alert.Id, alert => new HashSet<DateOnly> { AlertFeedGrain.DayOf(alert) }, StringComparer.Ordinal);
        }

        await state.WriteOwnStateAsync(cancellationToken);
    }

    private static bool AlertsEqual(Dictionary<string, RiskAlert> a, Dictionary<string, RiskAlert> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && other == pair.Value);
}

/// <summary>
/// The risk rules. Each is a function of the customer's events by event time, not of the order
/// in which streams happened to deliver them (orders of one customer travel on different
/// shards), so live processing and a rebuild reach the same alerts. An alert stands while its
/// condition holds; its id makes it unique per occasion, and its RaisedAt is the event time of
/// the order that triggered it.
/// </summary>
public static class RiskRules
{
    public const string Velocity = "order-velocity";
    public const string LargeOrder = "large-order";
    public const string CancelRefundRatio = "cancel-refund-ratio";
    public const string NewAccountLargeOrder = "new-account-large-order";

    /// <summary>Score contributed by each rule that stands; the score is their sum, at most 100.</summary>
    public static readonly IReadOnlyDictionary<string, int> Weights = new Dictionary<string, int>
    {
        [Velocity] = 40,
        [LargeOrder] = 30,
        [CancelRefundRatio] = 30,
        [NewAccountLargeOrder] = 30,
    };

    public static int Score(IEnumerable<string> rules) => Math.Min(100, rules.Distinct().Sum(rule => Weights.GetValueOrDefault(rule)));

    public static List<RiskAlert> Evaluate(string customerId, CustomerStatsState s, RiskOptions risk)
    {
        var alerts = new List<RiskAlert>();
        var placed = s.Placed.OrderBy(p => p.At).ThenBy(p => p.OrderId, StringComparer.Ordinal).ToList();

        // Velocity: an order whose trailing window holds more than the limit triggers. A burst is a
        // run of orders each placed within one window of the previous; one alert per burst that
        // has a trigger, carried (and identified) by its first trigger.
        var burstStart = 0;
        var burstAlerted = false;
        var windowFirst = 0; // placed[windowFirst..windowEnd) lie in (At_i - window, At_i]; both only move forward
        var windowEnd = 0;
        for (var i = 0; i < placed.Count; i++)
        {
            if (i > 0 && placed[i].At - placed[i - 1].At > risk.VelocityWindow)
            {
                burstStart = i;
                burstAlerted = false;
            }

            var windowStart = placed[i].At - risk.VelocityWindow;
            while (placed[windowFirst].At <= windowStart)
            {
                windowFirst++;
            }

            while (windowEnd < placed.Count && placed[windowEnd].At <= placed[i].At)
            {
                windowEnd++;
            }

            var count = windowEnd - windowFirst;
            if (count > risk.VelocityMaxOrders && !burstAlerted)
            {
                burstAlerted = true;
                alerts.Add(new RiskAlert(
                    $"{Velocity}/{customerId}/{placed[i].OrderId}",
                    Velocity, customerId, placed[i].OrderId, placed[i].At,
                    string.Create(CultureInfo.InvariantCulture, $"{count} orders placed within {risk.VelocityWindow} (limit {risk.VelocityMaxOrders}); burst began with order {placed[burstStart].OrderId}.")));
            }
        }

        // Large order: above the factor times the average of the customer's orders placed before it.
        decimal earlierTotal = 0;
        var earlierCount = 0;
        for (var i = 0; i < placed.Count; i++)
        {
            if (i > 0 && placed[i - 1].At < placed[i].At)
            {
                for (var j = earlierCount; j < i; j++)
                {
                    earlierTotal += placed[j].Total;
                }

                earlierCount = i;
            }

            if (earlierCount >= risk.LargeOrderMinHistory && earlierTotal > 0)
            {
                var average = earlierTotal / earlierCount;
                if (placed[i].Total > risk.LargeOrderFactor * average)
                {
                    alerts.Add(new RiskAlert(
                        $"{LargeOrder}/{placed[i].OrderId}", LargeOrder, customerId, placed[i].OrderId, placed[i].At,
                        string.Create(CultureInfo.InvariantCulture, $"Total {placed[i].Total} is over {risk.LargeOrderFactor}× the customer's average earlier order of {decimal.Round(average, 2)}.")));
                }
            }
        }

        // Cancel/refund ratio over all the customer's orders.
        if (s.Orders >= risk.CancelRefundMinOrders && s.BadEndings.Count >= risk.CancelRefundRatio * s.Orders)
        {
            var latest = s.BadEndings.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Last();
            alerts.Add(new RiskAlert(
                $"{CancelRefundRatio}/{customerId}", CancelRefundRatio, customerId, latest.Key, latest.Value,
                string.Create(CultureInfo.InvariantCulture, $"{s.BadEndings.Count} of {s.Orders} orders ended cancelled or refunded (limit {risk.CancelRefundRatio:P0}).")));
        }

        return alerts;
    }
}
