using System.Globalization;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>
/// Rules <see cref="RiskRules.Velocity"/> and <see cref="RiskRules.LargeOrder"/> as one pass over a
/// customer's placements in (time, order id) order (<see cref="CustomerStatsState.Placed"/>) that
/// goes on from where it stopped. The customer grain evaluates its rules after every live batch, so
/// a pass over every placement ever made cost more with each order of the customer; a placement at
/// or after the time of the latest is scanned from the first placement of that time on instead.
/// </summary>
/// <remarks>
/// The scan keeps its state as it was before the first placement of the latest time (the
/// <see cref="resume"/> point): placements of that time are counted in each other's velocity
/// window, so they are scanned again together. A placement earlier than that point may change any
/// later alert, and <see cref="CustomerStatsState"/> drops the scan then, so that the next
/// evaluation scans from the start.
/// </remarks>
internal sealed class PlacementScan(string customerId, RiskOptions risk)
{
    private readonly (int VelocityMaxOrders, TimeSpan VelocityWindow, decimal LargeOrderFactor, int LargeOrderMinHistory) rules =
        (risk.VelocityMaxOrders, risk.VelocityWindow, risk.LargeOrderFactor, risk.LargeOrderMinHistory);

    private readonly List<RiskAlert> velocityAlerts = [];
    private readonly List<RiskAlert> largeOrderAlerts = [];

    /// <summary>The scan's state before the first placement of the latest time scanned: where the next scan begins.</summary>
    private Position resume = Position.Start;

    public IReadOnlyList<RiskAlert> VelocityAlerts => velocityAlerts;

    public IReadOnlyList<RiskAlert> LargeOrderAlerts => largeOrderAlerts;

    /// <summary>Whether this scan was made for the customer and the thresholds given.</summary>
    public bool IsFor(string customer, RiskOptions options) =>
        customer == customerId
        && rules == (options.VelocityMaxOrders, options.VelocityWindow, options.LargeOrderFactor, options.LargeOrderMinHistory);

    /// <summary>Whether a placement inserted at this time leaves every placement before <see cref="resume"/> and its alerts as they were.</summary>
    public bool CanGoOnAfter(DateTimeOffset placedAt) => placedAt >= resume.At;

    /// <summary>Scans the placements from the resume point to the end; those before it must be the ones scanned before.</summary>
    public void Run(IReadOnlyList<PlacedOrder> placed)
    {
        var window = rules.VelocityWindow;
        velocityAlerts.RemoveRange(resume.VelocityAlerts, velocityAlerts.Count - resume.VelocityAlerts);
        largeOrderAlerts.RemoveRange(resume.LargeOrderAlerts, largeOrderAlerts.Count - resume.LargeOrderAlerts);
        var (burstStart, burstAlerted, windowFirst, earlierTotal, earlierCount) =
            (resume.BurstStart, resume.BurstAlerted, resume.WindowFirst, resume.EarlierTotal, resume.EarlierCount);
        var windowEnd = resume.Index; // placed[windowFirst..windowEnd) lie in (At_i - window, At_i]; both only move forward

        for (var i = resume.Index; i < placed.Count; i++)
        {
            var firstOfItsTime = i == 0 || placed[i - 1].At < placed[i].At;
            if (firstOfItsTime)
            {
                resume = new Position(i, placed[i].At, burstStart, burstAlerted, windowFirst, earlierTotal, earlierCount, velocityAlerts.Count, largeOrderAlerts.Count);
            }

            // Velocity: an order whose trailing window holds more than the limit triggers. A burst is a
            // run of orders each placed within one window of the previous; one alert per burst that
            // has a trigger, carried (and identified) by its first trigger.
            if (i > 0 && placed[i].At - placed[i - 1].At > window)
            {
                burstStart = i;
                burstAlerted = false;
            }

            var windowStart = placed[i].At - window;
            while (placed[windowFirst].At <= windowStart)
            {
                windowFirst++;
            }

            while (windowEnd < placed.Count && placed[windowEnd].At <= placed[i].At)
            {
                windowEnd++;
            }

            var count = windowEnd - windowFirst;
            if (count > rules.VelocityMaxOrders && !burstAlerted)
            {
                burstAlerted = true;
                velocityAlerts.Add(new RiskAlert(
                    $"{RiskRules.Velocity}/{customerId}/{placed[i].OrderId}",
                    RiskRules.Velocity, customerId, placed[i].OrderId, placed[i].At,
                    string.Create(CultureInfo.InvariantCulture, $"{count} orders placed within {window} (limit {rules.VelocityMaxOrders}); burst began with order {placed[burstStart].OrderId}.")));
            }

            // Large order: above the factor times the average of the customer's orders placed before it.
            if (i > 0 && firstOfItsTime)
            {
                for (var j = earlierCount; j < i; j++)
                {
                    earlierTotal += placed[j].Total;
                }

                earlierCount = i;
            }

            if (earlierCount >= rules.LargeOrderMinHistory && earlierTotal > 0)
            {
                var average = earlierTotal / earlierCount;
                if (placed[i].Total > rules.LargeOrderFactor * average)
                {
                    largeOrderAlerts.Add(new RiskAlert(
                        $"{RiskRules.LargeOrder}/{placed[i].OrderId}", RiskRules.LargeOrder, customerId, placed[i].OrderId, placed[i].At,
                        string.Create(CultureInfo.InvariantCulture, $"Total {placed[i].Total} is over {rules.LargeOrderFactor}× the customer's average earlier order of {decimal.Round(average, 2, MidpointRounding.AwayFromZero)}.")));
                }
            }
        }
    }

    /// <summary>The scan's state before placement <see cref="Index"/>, the first of its time <see cref="At"/>, with the number of alerts raised before it.</summary>
    private readonly record struct Position(
        int Index, DateTimeOffset At, int BurstStart, bool BurstAlerted, int WindowFirst, decimal EarlierTotal, int EarlierCount,
        int VelocityAlerts, int LargeOrderAlerts)
    {
        public static readonly Position Start = new(0, DateTimeOffset.MinValue, 0, false, 0, 0m, 0, 0, 0);
    }
}
