using System.Net;
using System.Text.Json;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>An order's whole life as a user of the README would drive it, with server-side event times throughout.</summary>
public sealed class LifecycleScenarioTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task Place_pay_ship_deliver_then_read_the_history()
    {
        var id = "order-" + Guid.NewGuid().ToString("N")[..8];
        var correlationId = "checkout-" + Guid.NewGuid().ToString("N")[..8];
        void Correlate(HttpRequestMessage request) => request.Headers.Add("X-Correlation-Id", correlationId);

        using var placeResponse = await host.Writer.PostAsync("/api/orders", $$"""
            {
              "orderId": "{{id}}",
              "customerId": "alice",
              "currency": "EUR",
              "items": [
                { "sku": "book-1", "quantity": 2, "unitPrice": 12.50 },
                { "sku": "pen-7", "quantity": 1, "unitPrice": 3.99 }
              ]
            }
            """, configure: Correlate);
        var placed = await placeResponse.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/orders/{id}", placeResponse.Headers.Location?.OriginalString);
        Assert.Equal(28.99m, placed.Dec("total"));

        using var payResponse = await host.Writer.PostAsync($"/api/orders/{id}/payments",
            """{ "paymentId": "pay-1", "amount": 28.99, "method": "card" }""", configure: Correlate);
        var paid = await payResponse.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal("paid", paid.Str("status"));

        await Task.Delay(50, TestContext.Current.CancellationToken); // let the clock move between payment and shipment

        using var shipResponse = await host.Writer.PostAsync($"/api/orders/{id}/shipment",
            """{ "carrier": "DHL", "trackingNumber": "JD0146000033" }""", configure: Correlate);
        var shipped = await shipResponse.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal("shipped", shipped.Str("status"));

        using var deliverResponse = await host.Writer.PostAsync($"/api/orders/{id}/delivery", json: null, configure: Correlate);
        var delivered = await deliverResponse.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal("delivered", delivered.Str("status"));
        Assert.Equal(4, delivered.Int("version"));

        // The order now.
        var now = await host.GetOrderAsync(id);
        Assert.Equal("delivered", now.Str("status"));
        Assert.Equal(28.99m, now.Dec("paid"));
        Assert.Equal(4, now.Int("version"));

        // Its events: versions 1..4, each with its event time and recording time.
        using var eventsResponse = await host.Reader.GetAsync($"/api/orders/{id}/events");
        var events = (await eventsResponse.AssertJsonAsync(HttpStatusCode.OK)).GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 3, 4], events.Select(e => e.Int("version")));
        Assert.Equal(["OrderPlaced", "OrderPaid", "OrderShipped", "OrderDelivered"], events.Select(e => e.Str("type")));
        JsonElement[] answers = [placed, paid, shipped, delivered];
        for (var i = 0; i < events.Length; i++)
        {
            var occurredAt = events[i].GetProperty("occurredAt").GetDateTimeOffset();
            var recordedAt = events[i].GetProperty("recordedAt").GetDateTimeOffset();
            Assert.Equal(answers[i].GetProperty("updatedAt").GetDateTimeOffset(), occurredAt);
            Assert.True(recordedAt >= occurredAt.AddSeconds(-1) && recordedAt - occurredAt < TimeSpan.FromSeconds(30),
                $"Event {i + 1}: occurredAt {occurredAt:O}, recordedAt {recordedAt:O}");
            Assert.Equal(correlationId, events[i].Str("correlationId"));
        }

        Assert.True(events.Zip(events.Skip(1)).All(pair =>
            pair.First.GetProperty("occurredAt").GetDateTimeOffset() <= pair.Second.GetProperty("occurredAt").GetDateTimeOffset()));

        // The order as it stood between payment and shipment.
        var paidAt = paid.GetProperty("updatedAt").GetDateTimeOffset();
        var shippedAt = shipped.GetProperty("updatedAt").GetDateTimeOffset();
        Assert.True(shippedAt > paidAt, $"paid {paidAt:O}, shipped {shippedAt:O}");
        var between = paidAt + (shippedAt - paidAt) / 2;
        var then = await host.GetOrderAsync(id, "?asOf=" + Uri.EscapeDataString(TestOrders.Time(between)));
        Assert.Equal("paid", then.Str("status"));
        Assert.Equal(2, then.Int("version"));

        // And at a version.
        Assert.Equal("shipped", (await host.GetOrderAsync(id, "?version=3")).Str("status"));
    }
}
