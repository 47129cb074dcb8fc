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
        var placed = s.Placed;
        var scan = s.ScanFor(customerId, risk);
        scan.Run(placed);
        var alerts = new List<RiskAlert>(scan.VelocityAlerts.Count + scan.LargeOrderAlerts.Count + 1);
        alerts.AddRange(scan.VelocityAlerts);
        alerts.AddRange(scan.LargeOrderAlerts);

        // Cancel/refund ratio over all the customer's orders (none without a bad ending, whatever the
        // thresholds). In decimal: as a double, 0.28 × 25 is 7.000000000000001, and 7 of 25 was not "at least 28 %".
        if (s.BadEndings.Count > 0 && s.Orders >= risk.CancelRefundMinOrders && s.BadEndings.Count >= (decimal)risk.CancelRefundRatio * s.Orders)
        {
            var latest = s.BadEndings.First();
            foreach (var ending in s.BadEndings)
            {
                if (ending.Value > latest.Value || (ending.Value == latest.Value && string.CompareOrdinal(ending.Key, latest.Key) > 0))
                {
                    latest = ending;
                }
            }

            alerts.Add(new RiskAlert(
                $"{CancelRefundRatio}/{customerId}", CancelRefundRatio, customerId, latest.Key, latest.Value,
                string.Create(CultureInfo.InvariantCulture, $"{s.BadEndings.Count} of {s.Orders} orders ended cancelled or refunded (limit {risk.CancelRefundRatio:P0}).")));
        }

        // New account, large order: the join of the registration with every placement, whichever
        // the streams delivered first; nothing else is kept for it, so the thresholds of now apply to every order.
        if (s.Registration.RegisteredAt is { } registeredAt)
        {
            // Placements are in time order: those before the registration are skipped by a binary search.
            for (var i = FirstPlacedAtOrAfter(placed, registeredAt); i < placed.Count && placed[i].At - registeredAt <= risk.NewAccountWindow; i++)
            {
                var order = placed[i];
                if (!RaisesNewAccountLargeOrder(order, registeredAt, risk))
                {
                    continue;
                }

                alerts.Add(new RiskAlert(
                    $"{NewAccountLargeOrder}/{order.OrderId}", NewAccountLargeOrder, customerId, order.OrderId, order.At,
                    string.Create(CultureInfo.InvariantCulture,
                        $"Total {order.Total} is over {risk.NewAccountLargeOrderAmount}, placed {order.At - registeredAt} after the customer registered (window {risk.NewAccountWindow}).")));
            }
        }

        return alerts;
    }

    private static int FirstPlacedAtOrAfter(IReadOnlyList<PlacedOrder> placed, DateTimeOffset at)
    {
        var (low, high) = (0, placed.Count);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            (low, high) = placed[middle].At < at ? (middle + 1, high) : (low, middle);
        }

        return low;
    }

    /// <summary>Whether <paramref name="order"/> raises <see cref="NewAccountLargeOrder"/>: over the amount, and placed at or after the registration, at most the window later.</summary>
    public static bool RaisesNewAccountLargeOrder(PlacedOrder order, DateTimeOffset registeredAt, RiskOptions risk) =>
        order.Total > risk.NewAccountLargeOrderAmount && order.At >= registeredAt && order.At - registeredAt <= risk.NewAccountWindow;
}
