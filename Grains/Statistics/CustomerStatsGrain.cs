using System.Globalization;
using Microsoft.Extensions.Options;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>One customer's orders, spend, cancellations and refunds, and the risk rules that fired.</summary>
public interface ICustomerStatsGrain : IGrainWithStringKey
{
    Task Ingest(OrderEventEnvelope envelope);

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

    /// <summary>Orders that ended cancelled or fully refunded.</summary>
    [Id(5)] public long BadEndings { get; set; }

    /// <summary>Placement time and total of every order, for the velocity and large-order rules.</summary>
    [Id(6)] public List<PlacedOrder> Placed { get; set; } = [];

    /// <summary>Rule names that fired at least once.</summary>
    [Id(7)] public SortedSet<string> Rules { get; set; } = new(StringComparer.Ordinal);

    [Id(8)] public DateTimeOffset? LastVelocityAlert { get; set; }

    [Id(9)] public CountedEvents Counted { get; set; } = new();
}

[GenerateSerializer, Alias("orderflow.placed-order")]
public sealed record PlacedOrder([property: Id(0)] string OrderId, [property: Id(1)] DateTimeOffset At, [property: Id(2)] decimal Total);

/// <summary>
/// Evaluates the risk rules as a customer's events arrive; each rule raises an alert once per
/// occasion (see <see cref="RiskRules"/>), sent to the <see cref="AlertFeedGrain"/>.
/// </summary>
public sealed class CustomerStatsGrain(
    [PersistentState("customer", StatisticsOptions.StorageName)] IPersistentState<CustomerStatsState> state,
    IOptions<StatisticsOptions> options,
    TimeProvider time) : Grain, ICustomerStatsGrain
{
    public async Task Ingest(OrderEventEnvelope envelope)
    {
        var s = state.State;
        if (!s.Counted.TryMark(envelope.OrderId, envelope.Version))
        {
            return;
        }

        var alerts = new List<RiskAlert>();
        switch (envelope.Type)
        {
            case nameof(OrderPlaced):
                s.Orders++;
                alerts.AddRange(RiskRules.OnPlaced(s, envelope, options.Value.Risk, time.GetUtcNow()));
                s.Placed.Add(new PlacedOrder(envelope.OrderId, envelope.OccurredAt, envelope.OrderTotal));
                break;
            case nameof(OrderPaid):
                s.Spend += envelope.Amount;
                break;
            case nameof(OrderCancelled):
                s.Cancellations++;
                break;
            case nameof(OrderRefunded):
                s.Refunds++;
                s.RefundedAmount += envelope.Amount;
                break;
        }

        if (envelope.EntersStatus && envelope.StatusAfter is OrderStatus.Cancelled or OrderStatus.Refunded)
        {
            s.BadEndings++;
            alerts.AddRange(RiskRules.OnBadEnding(s, envelope, options.Value.Risk, time.GetUtcNow()));
        }

        foreach (var alert in alerts)
        {
            s.Rules.Add(alert.Rule);
        }

        await state.WriteStateAsync();
        if (alerts.Count > 0)
        {
            await GrainFactory.GetGrain<IAlertFeedGrain>(StatisticsKeys.Global()).Raise(alerts);
        }
    }

    public Task<CustomerReport?> Get()
    {
        var s = state.State;
        if (s.Orders == 0 && s.Counted.Versions.Count == 0)
        {
            return Task.FromResult<CustomerReport?>(null);
        }

        var customerId = this.GetPrimaryKeyString().Split('/', 2)[1];
        return Task.FromResult<CustomerReport?>(new CustomerReport(
            customerId, s.Orders, s.Spend, s.Cancellations, s.Refunds, s.RefundedAmount, RiskRules.Score(s.Rules), [.. s.Rules]));
    }
}

/// <summary>
/// The risk rules, their alert ids (which make each alert unique per occasion), and the score.
/// </summary>
public static class RiskRules
{
    public const string Velocity = "order-velocity";
    public const string LargeOrder = "large-order";
    public const string CancelRefundRatio = "cancel-refund-ratio";

    /// <summary>Score contributed by each rule that fired; the score is their sum, at most 100.</summary>
    public static readonly IReadOnlyDictionary<string, int> Weights = new Dictionary<string, int>
    {
        [Velocity] = 40,
        [LargeOrder] = 30,
        [CancelRefundRatio] = 30,
    };

    public static int Score(IEnumerable<string> rules) => Math.Min(100, rules.Sum(rule => Weights.GetValueOrDefault(rule)));

    public static IEnumerable<RiskAlert> OnPlaced(CustomerStatsState s, OrderEventEnvelope placed, RiskOptions risk, DateTimeOffset now)
    {
        var windowStart = placed.OccurredAt - risk.VelocityWindow;
        var recent = s.Placed.Count(p => p.At > windowStart && p.At <= placed.OccurredAt) + 1;
        if (recent > risk.VelocityMaxOrders && (s.LastVelocityAlert is null || s.LastVelocityAlert <= windowStart))
        {
            s.LastVelocityAlert = placed.OccurredAt;
            yield return new RiskAlert(
                $"{Velocity}/{placed.CustomerId}/{placed.OrderId}", Velocity, placed.CustomerId, placed.OrderId, now,
                string.Create(CultureInfo.InvariantCulture, $"{recent} orders placed within {risk.VelocityWindow} (limit {risk.VelocityMaxOrders})."));
        }

        var earlier = s.Placed.Where(p => p.At <= placed.OccurredAt).ToList();
        if (earlier.Count >= risk.LargeOrderMinHistory)
        {
            var average = earlier.Average(p => p.Total);
            if (average > 0 && placed.OrderTotal > risk.LargeOrderFactor * average)
            {
                yield return new RiskAlert(
                    $"{LargeOrder}/{placed.OrderId}", LargeOrder, placed.CustomerId, placed.OrderId, now,
                    string.Create(CultureInfo.InvariantCulture, $"Total {placed.OrderTotal} is over {risk.LargeOrderFactor}× the customer's average of {decimal.Round(average, 2)}."));
            }
        }
    }

    public static IEnumerable<RiskAlert> OnBadEnding(CustomerStatsState s, OrderEventEnvelope ending, RiskOptions risk, DateTimeOffset now)
    {
        var ratio = s.Orders == 0 ? 0 : (double)s.BadEndings / s.Orders;
        if (s.Orders >= risk.CancelRefundMinOrders && ratio >= risk.CancelRefundRatio && !s.Rules.Contains(CancelRefundRatio))
        {
            yield return new RiskAlert(
                $"{CancelRefundRatio}/{ending.CustomerId}", CancelRefundRatio, ending.CustomerId, ending.OrderId, now,
                string.Create(CultureInfo.InvariantCulture, $"{s.BadEndings} of {s.Orders} orders ended cancelled or refunded (limit {risk.CancelRefundRatio:P0})."));
        }
    }
}
