using System.Net;
using System.Net.Http.Json;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Product sales and the alert feed show what the projections have counted before any flush
/// persists it (issue 12: queries see what is counted, persisted or not), over the real API. The
/// flush interval is an hour and the reconciliation is off, so nothing is persisted while the test looks.
/// </summary>
public sealed class LiveViewsApiTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_paid_order_shows_in_product_sales_before_any_flush()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, LiveBatchTests.Settings);

        await PostAsync(host, "/api/orders", new
        {
            orderId = "live-products-order",
            customerId = "live-products-customer",
            currency = "EUR",
            items = new[] { new { sku = "LIVE-SKU", quantity = 3, unitPrice = 12.50m } },
        }, HttpStatusCode.Created, ct);
        await PostAsync(host, "/api/orders/live-products-order/payments", new { paymentId = "live-products-pay", amount = 37.50m, method = "card" }, HttpStatusCode.OK, ct);

        await Eventually.UntilAsync(async () => (await host.Reader.TopProducts(1000, false, ct)).Any(p => p.Sku == "LIVE-SKU"),
            "the paid order's product in GET /api/stats/products", ct, Patience);
        var product = Assert.Single(await host.Reader.TopProducts(1000, false, ct), p => p.Sku == "LIVE-SKU");
        Assert.Equal((3L, 37.50m), (product.Quantity, product.Revenue));
    }

    [Fact]
    public async Task A_risk_alert_shows_in_the_alert_feed_before_any_flush()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, LiveBatchTests.Settings);

        // Rule new-account-large-order: over 1,000 within a day of registering.
        await PostAsync(host, "/api/customers", new { customerId = "live-alert-customer", name = "Ada Lovelace", email = "ada@example.com", country = "GB" },
            HttpStatusCode.Created, ct);
        await PostAsync(host, "/api/orders", new
        {
            orderId = "live-alert-order",
            customerId = "live-alert-customer",
            currency = "EUR",
            items = new[] { new { sku = "LIVE-ALERT-SKU", quantity = 3, unitPrice = 500m } },
        }, HttpStatusCode.Created, ct);

        await Eventually.UntilAsync(async () => (await host.Reader.Alerts(ct)).Any(a => a.OrderId == "live-alert-order"),
            "the order's alert in GET /api/alerts", ct, Patience);
        var alert = Assert.Single(await host.Reader.Alerts(ct), a => a.OrderId == "live-alert-order");
        Assert.Equal((RiskRules.NewAccountLargeOrder, "live-alert-customer"), (alert.Rule, alert.CustomerId));
    }

    private static async Task PostAsync(StatsApiHost host, string path, object body, HttpStatusCode expected, CancellationToken ct)
    {
        using var response = await host.Http.PostAsJsonAsync(path, body, ct);
        Assert.True(response.StatusCode == expected, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
    }
}
