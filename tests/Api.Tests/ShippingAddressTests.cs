using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// API.md "Orders: commands": an order may be placed with a shipping address, which the order
/// shows at every point of its history and which is recorded as OrderPlaced schema version 2.
/// The rules themselves are in <see cref="ValidationTests"/>.
/// </summary>
public sealed class ShippingAddressTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task An_order_placed_with_an_address_shows_it_and_records_it_in_OrderPlaced_version_2()
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        var address = TestOrders.ShippingAddress();
        address["line2"] = "Hinterhaus, 3. OG";
        body["shippingAddress"] = address;

        using var response = await host.Admin.PostAsync("/api/orders", body.ToJsonString()); // may read: answered whole

        var placed = await response.AssertJsonAsync(HttpStatusCode.Created);
        void AssertIsTheAddress(JsonElement shown) =>
            Assert.True(JsonNode.DeepEquals(address, JsonNode.Parse(shown.GetRawText())), $"The address shown is {shown.GetRawText()}.");

        AssertIsTheAddress(placed.GetProperty("shippingAddress"));
        await host.PayAsync(id);
        AssertIsTheAddress((await host.GetOrderAsync(id)).GetProperty("shippingAddress"));
        AssertIsTheAddress((await host.GetOrderAsync(id, "?version=1")).GetProperty("shippingAddress"));

        var events = await host.GetAllEventsAsync(id);
        Assert.Equal([("OrderPlaced", 2), ("OrderPaid", 1)], events.Select(e => (e.Str("type"), e.Int("schemaVersion"))));
        AssertIsTheAddress(events[0].GetProperty("data").GetProperty("shippingAddress"));
    }

    [Fact]
    public async Task An_order_placed_without_an_address_shows_none()
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        body["shippingAddress"] = null;

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        var placed = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, placed.GetProperty("shippingAddress").ValueKind);
        Assert.Equal(JsonValueKind.Null, (await host.GetOrderAsync(id)).GetProperty("shippingAddress").ValueKind);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_address_and_its_rules()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");
        var document = await response.AssertJsonAsync(HttpStatusCode.OK);

        var place = document.GetProperty("paths").GetProperty("/api/orders").GetProperty("post");
        Assert.Contains("shippingAddress", place.GetProperty("requestBody").Str("description"), StringComparison.Ordinal);
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var request = schemas.GetProperty("ShippingAddressRequest").GetProperty("properties");
        Assert.Contains("ISO 3166-1 alpha-2", request.GetProperty("country").Str("description"), StringComparison.Ordinal);
        Assert.True(schemas.GetProperty("PlaceOrder").GetProperty("properties").TryGetProperty("shippingAddress", out _));
        Assert.True(schemas.GetProperty("OrderView").GetProperty("properties").TryGetProperty("shippingAddress", out _));
    }
}
