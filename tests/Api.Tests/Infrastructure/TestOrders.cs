using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.Orders.Commands;
using OrderFlow.Testing.Orders;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>Request bodies of API.md and the order operations most tests need, asserted to succeed.</summary>
public static class TestOrders
{
    /// <summary>The total of <see cref="PlaceBody"/>: 2 × 10.50.</summary>
    public const decimal Total = 21.00m;

    public static string NewId(string prefix = "ord") => $"{prefix}-{Guid.NewGuid():N}";

    public static string Time(DateTimeOffset time) => TestCommands.Time(time);

    /// <summary>The place-order command most API tests send: 2 × sku-1 at 10.50 (see <see cref="Total"/>).</summary>
    public static PlaceOrder Place(string? orderId, DateTimeOffset? occurredAt = null) =>
        TestCommands.Place(orderId, "cust-42", "sku-1", 2, 10.50m, occurredAt);

    public static JsonObject PlaceBody(string? orderId, DateTimeOffset? occurredAt = null) => TestCommands.Body(Place(orderId, occurredAt));

    /// <summary>A valid shipping address (no second line), for a place-order body's shippingAddress.</summary>
    public static JsonObject ShippingAddress() => TestCommands.Body(new ShippingAddressRequest("Ada Lovelace", "Unter den Linden 1", null, "Berlin", "10117", "DE"));

    public static JsonObject PayBody(decimal amount = Total, string? paymentId = null, DateTimeOffset? occurredAt = null) =>
        TestCommands.Body(TestCommands.Pay(paymentId ?? NewId("pay"), amount, occurredAt));

    public static JsonObject ShipBody(DateTimeOffset? occurredAt = null) => TestCommands.Body(TestCommands.Ship("DHL", "TRK-123456", occurredAt));

    public static JsonObject DeliverBody(DateTimeOffset? occurredAt = null) => TestCommands.Body(TestCommands.Deliver(occurredAt));

    public static JsonObject CancelBody(DateTimeOffset? occurredAt = null) =>
        TestCommands.Body(TestCommands.Cancel("customer changed their mind", occurredAt));

    public static JsonObject RefundBody(decimal amount, string? refundId = null, DateTimeOffset? occurredAt = null) =>
        TestCommands.Body(TestCommands.Refund(refundId ?? NewId("ref"), amount, "damaged", occurredAt));

    public static async Task<JsonElement> PlaceAsync(this ApiHost host, string orderId, DateTimeOffset? occurredAt = null)
    {
        using var response = await host.Writer.PostAsync("/api/orders", PlaceBody(orderId, occurredAt).ToJsonString());
        return await response.AssertJsonAsync(HttpStatusCode.Created);
    }

    public static Task<JsonElement> PayAsync(this ApiHost host, string orderId, DateTimeOffset? occurredAt = null) =>
        host.CommandAsync(orderId, "payments", PayBody(occurredAt: occurredAt));

    public static Task<JsonElement> ShipAsync(this ApiHost host, string orderId, DateTimeOffset? occurredAt = null) =>
        host.CommandAsync(orderId, "shipment", ShipBody(occurredAt));

    public static Task<JsonElement> DeliverAsync(this ApiHost host, string orderId, DateTimeOffset? occurredAt = null) =>
        host.CommandAsync(orderId, "delivery", DeliverBody(occurredAt));

    public static Task<JsonElement> RefundAsync(this ApiHost host, string orderId, decimal amount, DateTimeOffset? occurredAt = null) =>
        host.CommandAsync(orderId, "refunds", RefundBody(amount, occurredAt: occurredAt));

    public static async Task<JsonElement> CommandAsync(this ApiHost host, string orderId, string command, JsonObject body)
    {
        using var response = await host.Writer.PostAsync($"/api/orders/{orderId}/{command}", body.ToJsonString());
        return await response.AssertJsonAsync(HttpStatusCode.OK);
    }

    /// <summary>Places an order and moves it to <paramref name="status"/> (placed, paid, shipped, delivered).</summary>
    public static async Task<string> OrderInStatusAsync(this ApiHost host, string status)
    {
        var steps = status switch
        {
            "placed" => 0,
            "paid" => 1,
            "shipped" => 2,
            "delivered" => 3,
            _ => throw new ArgumentOutOfRangeException(nameof(status), status, "placed, paid, shipped or delivered"),
        };
        var id = NewId();
        await host.PlaceAsync(id);
        if (steps >= 1)
        {
            await host.PayAsync(id);
        }

        if (steps >= 2)
        {
            await host.ShipAsync(id);
        }

        if (steps >= 3)
        {
            await host.DeliverAsync(id);
        }

        return id;
    }

    public static async Task<JsonElement> GetOrderAsync(this ApiHost host, string orderId, string query = "")
    {
        using var response = await host.Reader.GetAsync($"/api/orders/{orderId}{query}");
        return await response.AssertJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<JsonElement[]> GetAllEventsAsync(this ApiHost host, string orderId)
    {
        using var response = await host.Reader.GetAsync($"/api/orders/{orderId}/events?limit=1000");
        var page = await response.AssertJsonAsync(HttpStatusCode.OK);
        return [.. page.GetProperty("events").EnumerateArray()];
    }

    /// <summary>
    /// API.md "A request that fails writes nothing": the order still has <paramref name="version"/>
    /// and exactly that many events (an order that never existed is still 404 on both).
    /// </summary>
    public static Task AssertNothingWrittenAsync(this ApiHost host, string orderId, int version) =>
        host.AssertNothingWrittenAtAsync($"/api/orders/{orderId}", version);

    /// <summary>
    /// The aggregate at <paramref name="resource"/> (<c>/api/orders/{id}</c>, <c>/api/customers/{id}</c>) still has
    /// <paramref name="version"/> and exactly that many events at <c>{resource}/events</c>; with version 0, both are 404.
    /// </summary>
    public static async Task AssertNothingWrittenAtAsync(this ApiHost host, string resource, int version)
    {
        if (version == 0)
        {
            using var missing = await host.Reader.GetAsync(resource);
            await missing.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
            using var events = await host.Reader.GetAsync(resource + "/events");
            await events.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
            return;
        }

        using var view = await host.Reader.GetAsync(resource);
        Assert.Equal(version, (await view.AssertJsonAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
        using var page = await host.Reader.GetAsync(resource + "/events?limit=1000");
        var all = (await page.AssertJsonAsync(HttpStatusCode.OK)).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, version), all.Select(e => e.GetProperty("version").GetInt32()));
    }

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;

    public static decimal Dec(this JsonElement element, string name) => element.GetProperty(name).GetDecimal();

    public static int Int(this JsonElement element, string name) => element.GetProperty(name).GetInt32();
}
