using System.Globalization;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>
/// The join of risk rule <see cref="RiskRules.NewAccountLargeOrder"/> for one customer: an order
/// over <see cref="RiskOptions.NewAccountLargeOrderAmount"/> placed (event time) within
/// <see cref="RiskOptions.NewAccountWindow"/> after the customer registered. Its two sources, the
/// customer's registration and the customer's orders, travel on different streams and arrive in
/// any order; this state holds what one side needs until the other arrives, so that the alerts
/// depend only on the events, not on which stream delivered first.
/// </summary>
/// <remarks>
/// Until the registration is known, every large order is kept (the registration may come later,
/// in event time too: an order may name a customer that registers later). Once it is known, only
/// the orders that raise an alert are kept. Either way at most <see cref="MaxOrders"/>, the
/// earliest by event time: the orders within the window are the earliest after the registration,
/// so the bound changes the outcome only for a customer with more than that many large orders
/// placed before the window ends, and then only by missing some of them.
/// </remarks>
[GenerateSerializer, Alias("orderflow.new-account-large-orders")]
public sealed class NewAccountLargeOrders
{
    /// <summary>Large orders kept per customer: a few kilobytes next to the customer's placements (README "Capacity").</summary>
    public const int MaxOrders = 100;

    /// <summary>The event time of the customer's registration, once a customer event told it.</summary>
    [Id(0)] public DateTimeOffset? RegisteredAt { get; set; }

    /// <summary>Large orders by (event time, order id): waiting for the registration, or raising an alert once it is known.</summary>
    [Id(1)] public List<PlacedOrder> Orders { get; set; } = [];

    /// <summary>The customer registered at <paramref name="registeredAt"/>; true when that was news.</summary>
    public bool Registered(DateTimeOffset registeredAt, RiskOptions risk)
    {
        if (RegisteredAt is not null)
        {
            return false; // every customer event carries the same registration time
        }

        RegisteredAt = registeredAt;
        Orders.RemoveAll(order => !Raises(order, registeredAt, risk));
        return true;
    }

    /// <summary>The customer placed <paramref name="order"/>; true when it was kept.</summary>
    public bool Placed(PlacedOrder order, RiskOptions risk)
    {
        var relevant = RegisteredAt is { } registeredAt ? Raises(order, registeredAt, risk) : order.Total > risk.NewAccountLargeOrderAmount;
        if (!relevant || Orders.Exists(kept => kept.OrderId == order.OrderId))
        {
            return false;
        }

        var index = Orders.BinarySearch(order, EventTimeOrder.Instance);
        Orders.Insert(index < 0 ? ~index : index, order);
        if (Orders.Count <= MaxOrders)
        {
            return true;
        }

        var dropped = Orders[^1];
        Orders.RemoveAt(Orders.Count - 1);
        return !ReferenceEquals(dropped, order);
    }

    /// <summary>The alerts that stand: one per large order placed within the window after the registration.</summary>
    public IEnumerable<RiskAlert> Alerts(string customerId, RiskOptions risk) =>
        RegisteredAt is not { } registeredAt
            ? []
            : Orders.Where(order => Raises(order, registeredAt, risk)).Select(order => new RiskAlert(
                $"{RiskRules.NewAccountLargeOrder}/{order.OrderId}", RiskRules.NewAccountLargeOrder, customerId, order.OrderId, order.At,
                string.Create(CultureInfo.InvariantCulture,
                    $"Total {order.Total} is over {risk.NewAccountLargeOrderAmount}, placed {order.At - registeredAt} after the customer registered (window {risk.NewAccountWindow}).")));

    /// <summary>Whether <paramref name="order"/> raises the alert: large, and placed at or after the registration, at most the window later.</summary>
    public static bool Raises(PlacedOrder order, DateTimeOffset registeredAt, RiskOptions risk) =>
        order.Total > risk.NewAccountLargeOrderAmount && order.At >= registeredAt && order.At - registeredAt <= risk.NewAccountWindow;

    private sealed class EventTimeOrder : IComparer<PlacedOrder>
    {
        public static readonly EventTimeOrder Instance = new();

        public int Compare(PlacedOrder? x, PlacedOrder? y)
        {
            var byTime = x!.At.CompareTo(y!.At);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.OrderId, y.OrderId);
        }
    }
}
