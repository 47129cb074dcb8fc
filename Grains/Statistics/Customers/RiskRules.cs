using System.Globalization;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Customers;

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

        // New account, large order: the join of the registration with every placement, whichever
        // the streams delivered first; nothing else is kept for it, so the thresholds of now apply to every order.
        if (s.Registration.RegisteredAt is { } registeredAt)
        {
            foreach (var order in placed.Where(order => RaisesNewAccountLargeOrder(order, registeredAt, risk)))
            {
                alerts.Add(new RiskAlert(
                    $"{NewAccountLargeOrder}/{order.OrderId}", NewAccountLargeOrder, customerId, order.OrderId, order.At,
                    string.Create(CultureInfo.InvariantCulture,
                        $"Total {order.Total} is over {risk.NewAccountLargeOrderAmount}, placed {order.At - registeredAt} after the customer registered (window {risk.NewAccountWindow}).")));
            }
        }

        return alerts;
    }

    /// <summary>Whether <paramref name="order"/> raises <see cref="NewAccountLargeOrder"/>: over the amount, and placed at or after the registration, at most the window later.</summary>
    public static bool RaisesNewAccountLargeOrder(PlacedOrder order, DateTimeOffset registeredAt, RiskOptions risk) =>
        order.Total > risk.NewAccountLargeOrderAmount && order.At >= registeredAt && order.At - registeredAt <= risk.NewAccountWindow;
}
