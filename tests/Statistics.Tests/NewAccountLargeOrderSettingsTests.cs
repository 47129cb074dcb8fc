using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Orders.Commands;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Review finding: rule new-account-large-order decided each order with the thresholds in force
/// when it was counted, so lowering <c>Statistics:Risk:NewAccountLargeOrderAmount</c> changed
/// nothing for orders counted before, short of a rebuild. The customer's projection evaluates its
/// rules when it is activated, with the thresholds of now, over every placement it holds.
/// </summary>
public sealed class NewAccountLargeOrderSettingsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_lower_amount_raises_the_alert_of_an_order_counted_before_at_the_next_evaluation()
    {
        var ct = TestContext.Current.CancellationToken;
        var tables = ClusterTables.Unique("rjset");
        const string customer = "rj-settings";
        var registeredAt = TestClock.Day0.AddHours(6);
        var order = new OrderPlan("rj-settings-order", customer, "EUR", [new Line("RJ-SKU", 1, 800m)], [new Step(StepKind.Place, registeredAt.AddHours(2))]);

        await using (var before = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct))
        {
            var registered = await before.Client.GetGrain<ICustomerGrain>(customer)
                .Execute(new RegisterCustomer(customer, "Settings", "settings@example.com", "DE", registeredAt), CommandMetadata.None);
            Assert.True(registered.Error is null, registered.Error?.ToString());
            await before.ExecuteAsync(order);
            await Eventually.UntilAsync(async () => await before.Reader.Customer(customer, ct) is { Orders: 1, RegisteredAt: not null }, "the order and the registration to be counted", ct);
            Assert.Empty((await before.Reader.Customer(customer, ct))!.Rules); // 800 is not over 1,000
            await before.Client.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(1, customer)).Flush();
        }

        await using var after = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct,
            new Dictionary<string, string?> { ["Statistics:Risk:NewAccountLargeOrderAmount"] = "500" });

        Assert.Contains(RiskRules.NewAccountLargeOrder, (await after.Reader.Customer(customer, ct))!.Rules);
        await Eventually.UntilAsync(async () => (await after.Reader.Alerts(ct)).Any(a => a.Id == $"{RiskRules.NewAccountLargeOrder}/{order.OrderId}"),
            "the alert in the feed", ct);
    }
}
