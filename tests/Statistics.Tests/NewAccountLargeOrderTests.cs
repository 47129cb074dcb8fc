using System.Diagnostics;
using Orleans.Runtime;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Risk rule new-account-large-order joins two sources: customer events and order events, on
/// streams of their own that deliver in any order relative to each other. On a real one-silo
/// cluster (memory streams, grain storage on Azurite), with the default thresholds (over 1,000
/// within a day of registering).
/// </summary>
public sealed class NewAccountLargeOrderTests(StatsClusterFixture fixture) : IClassFixture<StatsClusterFixture>
{
    private static readonly Line[] Large = [new("RJ-SKU", 3, 500m)];

    private static readonly Line[] Small = [new("RJ-SKU", 1, 500m)];

    private StatsCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task The_rule_fires_when_the_order_arrives_before_the_registration()
    {
        var ct = TestContext.Current.CancellationToken;
        var registeredAt = TestClock.Day0.AddHours(1);
        var order = Plan("rj-late-registration-order", "rj-late-registration", registeredAt.AddHours(2), Large);

        await Cluster.ExecuteAsync(order);
        await Eventually.UntilAsync(async () => (await Cluster.Reader.Customer(order.CustomerId, ct))?.Orders == 1, "the order to be counted", ct);
        Assert.DoesNotContain(RiskRules.NewAccountLargeOrder, (await Cluster.Reader.Customer(order.CustomerId, ct))!.Rules); // no registration known yet

        await PublishAsync(Registration(order.CustomerId, registeredAt));

        await AssertAlertAsync(order, ct);
    }

    [Fact]
    public async Task The_rule_fires_when_the_registration_arrives_before_the_order()
    {
        var ct = TestContext.Current.CancellationToken;
        var registeredAt = TestClock.Day0.AddHours(5);
        var order = Plan("rj-early-registration-order", "rj-early-registration", registeredAt.AddHours(23), Large);

        await PublishAsync(Registration(order.CustomerId, registeredAt));
        await Eventually.UntilAsync(async () => (await Cluster.Reader.Customer(order.CustomerId, ct))?.RegisteredAt == registeredAt, "the registration to be counted", ct);
        await Cluster.ExecuteAsync(order);

        await AssertAlertAsync(order, ct);
    }

    [Fact]
    public async Task No_alert_for_a_small_order_or_a_large_one_outside_the_window()
    {
        var ct = TestContext.Current.CancellationToken;
        const string customer = "rj-no-alert";
        var registeredAt = TestClock.Day0.AddHours(10);
        var orders = new[]
        {
            Plan("rj-no-alert-small", customer, registeredAt.AddHours(1), Small),
            Plan("rj-no-alert-before", customer, registeredAt.AddMinutes(-1), Large),
            Plan("rj-no-alert-after", customer, registeredAt.AddDays(1).AddMinutes(1), Large),
        };

        await Cluster.ExecuteAsync(orders[0]);
        await PublishAsync(Registration(customer, registeredAt));
        await Cluster.ExecuteAsync(orders[1]);
        await Cluster.ExecuteAsync(orders[2]);

        // The customer's own report is current: once it has counted all of them, its rules are final.
        await Eventually.UntilAsync(async () => await Cluster.Reader.Customer(customer, ct) is { Orders: 3, RegisteredAt: not null }, "the three orders and the registration to be counted", ct);
        Assert.Empty((await Cluster.Reader.Customer(customer, ct))!.Rules);
    }

    [Fact]
    public async Task Redelivered_customer_and_order_events_give_one_alert_and_count_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var registeredAt = TestClock.Day0.AddHours(20);
        var order = Plan("rj-redelivered-order", "rj-redelivered", registeredAt.AddMinutes(30), Large);
        var registration = Registration(order.CustomerId, registeredAt);
        await PublishAsync(registration);
        await Cluster.ExecuteAsync(order);
        await AssertAlertAsync(order, ct);

        // Everything again, twice, latest first, while the customer's projection is deactivated.
        var envelopes = StatsCluster.Envelopes(await Cluster.Store.ReadEventsAsync(order.OrderId, 1, 100, ct));
        foreach (var envelope in Enumerable.Repeat(envelopes, 2).SelectMany(e => e))
        {
            await Cluster.PublishAsync(envelope);
        }

        await PublishAsync(registration);
        await Cluster.DeactivateAsync(Cluster.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, order.CustomerId)));
        await PublishAsync(registration);

        // Sentinels after the redeliveries, on the same two streams: once their own alert stands, the streams delivered everything before them.
        var sentinelCustomer = SameShard("rj-redelivered-sentinel", CustomerEventStreams.ShardOf(order.CustomerId));
        var sentinel = Plan(SameShard("rj-redelivered-sentinel-order", OrderEventStreams.ShardOf(order.OrderId)), sentinelCustomer, registeredAt.AddHours(1), Large);
        await PublishAsync(Registration(sentinelCustomer, registeredAt));
        await Cluster.ExecuteAsync(sentinel);
        await AssertAlertAsync(sentinel, ct);

        var report = (await Cluster.Reader.Customer(order.CustomerId, ct))!;
        Assert.Equal((1L, (DateTimeOffset?)registeredAt), (report.Orders, report.RegisteredAt));
        Assert.Single(await Cluster.Reader.Alerts(ct), a => a.CustomerId == order.CustomerId && a.Rule == RiskRules.NewAccountLargeOrder);
    }

    private static OrderPlan Plan(string orderId, string customerId, DateTimeOffset placedAt, IReadOnlyList<Line> lines) =>
        new(orderId, customerId, "EUR", lines, [new Step(StepKind.Place, placedAt)]);

    /// <summary>The envelope the customer grain publishes for a registration (version 1).</summary>
    internal static CustomerEventEnvelope Registration(string customerId, DateTimeOffset registeredAt) =>
        new(customerId, 1, Guid.NewGuid(), CustomerRegistered.StoredName, registeredAt, "DE", registeredAt);

    /// <summary>Publishes onto the real customer-event stream of the customer's shard, from the cluster client.</summary>
    private Task PublishAsync(CustomerEventEnvelope envelope) =>
        Cluster.Client.GetStreamProvider(OrderEventStreams.ProviderName)
            .GetStream<CustomerEventEnvelope>(StreamId.Create(CustomerEventStreams.Namespace, CustomerEventStreams.StreamKey(CustomerEventStreams.ShardOf(envelope.CustomerId))))
            .OnNextAsync(envelope);

    private static string SameShard(string prefix, int shard) => StatsCluster.IdOnShard(prefix, shard);

    /// <summary>The customer's report names the rule, and the alert feed holds exactly one alert for the order, raised at its placement.</summary>
    private async Task AssertAlertAsync(OrderPlan order, CancellationToken ct)
    {
        await Eventually.UntilAsync(async () => (await Cluster.Reader.Customer(order.CustomerId, ct))?.Rules.Contains(RiskRules.NewAccountLargeOrder) == true, "the customer's report to name the rule", ct);
        await Eventually.UntilAsync(async () => (await Cluster.Reader.Alerts(ct)).Any(a => a.OrderId == order.OrderId), "the alert in the feed", ct);
        var alert = Assert.Single(await Cluster.Reader.Alerts(ct), a => a.OrderId == order.OrderId);
        Assert.Equal(($"{RiskRules.NewAccountLargeOrder}/{order.OrderId}", RiskRules.NewAccountLargeOrder, order.CustomerId, order.PlacedAt),
            (alert.Id, alert.Rule, alert.CustomerId, alert.RaisedAt));
    }
}
