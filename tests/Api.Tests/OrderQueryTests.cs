using System.Net;
using System.Text.Json;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Orders (queries)": the order now, as of a time, at a version, and its events page by page.</summary>
public sealed class OrderQueryTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    /// <summary>An order with five events at known event times: placed T0, paid T0+10m, shipped T0+20m, delivered T0+30m, refunded T0+40m.</summary>
    private async Task<(string Id, DateTimeOffset T0)> OrderWithHistoryAsync()
    {
        var t0 = new DateTimeOffset(DateTime.UtcNow.AddHours(-2).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var id = TestOrders.NewId();
        await host.PlaceAsync(id, t0);
        await host.PayAsync(id, t0.AddMinutes(10));
        await host.ShipAsync(id, t0.AddMinutes(20));
        await host.DeliverAsync(id, t0.AddMinutes(30));
        await host.RefundAsync(id, 1.50m, t0.AddMinutes(40));
        return (id, t0);
    }

    [Fact]
    public async Task Get_returns_the_order_with_every_member_of_the_contract()
    {
        var (id, t0) = await OrderWithHistoryAsync();

        using var response = await host.Reader.GetAsync($"/api/orders/{id}");

        var order = await response.AssertJsonAsync(HttpStatusCode.OK);
        string[] members = ["orderId", "customerId", "status", "currency", "items", "total", "paid", "refunded", "version", "placedAt", "updatedAt"];
        foreach (var member in members)
        {
            Assert.True(order.TryGetProperty(member, out _), $"GET order lacks '{member}': {order}");
        }

        Assert.Equal(id, order.Str("orderId"));
        Assert.Equal("delivered", order.Str("status"));
        Assert.Equal(TestOrders.Total, order.Dec("total"));
        Assert.Equal(TestOrders.Total, order.Dec("paid"));
        Assert.Equal(1.50m, order.Dec("refunded"));
        Assert.Equal(5, order.Int("version"));
        Assert.Equal(t0, order.GetProperty("placedAt").GetDateTimeOffset());
        Assert.Equal(t0.AddMinutes(40), order.GetProperty("updatedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Get_an_unknown_order_is_404()
    {
        var id = TestOrders.NewId("missing");

        using var order = await host.Reader.GetAsync($"/api/orders/{id}");
        await order.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");

        using var events = await host.Reader.GetAsync($"/api/orders/{id}/events");
        await events.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");

        using var asOf = await host.Reader.GetAsync($"/api/orders/{id}?asOf={TestOrders.Time(DateTimeOffset.UtcNow)}");
        await asOf.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");

        using var version = await host.Reader.GetAsync($"/api/orders/{id}?version=1");
        await version.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Fact]
    public async Task AsOf_returns_the_order_as_it_stood_then()
    {
        var (id, t0) = await OrderWithHistoryAsync();

        async Task<JsonElement> AsOf(DateTimeOffset time) => await host.GetOrderAsync(id, "?asOf=" + Uri.EscapeDataString(TestOrders.Time(time)));

        var atPlacement = await AsOf(t0); // inclusive
        Assert.Equal("placed", atPlacement.Str("status"));
        Assert.Equal(1, atPlacement.Int("version"));
        Assert.Equal(0m, atPlacement.Dec("paid"));

        Assert.Equal("placed", (await AsOf(t0.AddMinutes(5))).Str("status"));
        var paid = await AsOf(t0.AddMinutes(15));
        Assert.Equal("paid", paid.Str("status"));
        Assert.Equal(2, paid.Int("version"));
        Assert.Equal(TestOrders.Total, paid.Dec("paid"));
        Assert.Equal("shipped", (await AsOf(t0.AddMinutes(25))).Str("status"));
        Assert.Equal("delivered", (await AsOf(t0.AddMinutes(35))).Str("status"));
        var now = await AsOf(DateTimeOffset.UtcNow);
        Assert.Equal(5, now.Int("version"));
        Assert.Equal(1.50m, now.Dec("refunded"));
    }

    [Fact]
    public async Task AsOf_before_placement_is_404()
    {
        var (id, t0) = await OrderWithHistoryAsync();

        using var response = await host.Reader.GetAsync($"/api/orders/{id}?asOf={Uri.EscapeDataString(TestOrders.Time(t0.AddMilliseconds(-1)))}");

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Fact]
    public async Task AsOf_accepts_other_ISO_8601_forms_of_the_same_time()
    {
        var (id, t0) = await OrderWithHistoryAsync();
        var between = t0.AddMinutes(15); // paid

        string[] forms =
        [
            Uri.EscapeDataString(between.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture)),
            between.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            between.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ];
        foreach (var form in forms)
        {
            var order = await host.GetOrderAsync(id, "?asOf=" + form);
            Assert.Equal("paid", order.Str("status"));
        }
    }

    [Fact]
    public async Task Version_returns_the_order_right_after_that_event()
    {
        var (id, _) = await OrderWithHistoryAsync();

        string[] statuses = ["placed", "paid", "shipped", "delivered", "delivered"];
        for (var version = 1; version <= 5; version++)
        {
            var order = await host.GetOrderAsync(id, $"?version={version}");
            Assert.Equal(version, order.Int("version"));
            Assert.Equal(statuses[version - 1], order.Str("status"));
        }

        using var beyond = await host.Reader.GetAsync($"/api/orders/{id}?version=6");
        await beyond.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Fact]
    public async Task AsOf_and_version_together_are_400()
    {
        var (id, t0) = await OrderWithHistoryAsync();

        using var response = await host.Reader.GetAsync($"/api/orders/{id}?version=1&asOf={TestOrders.Time(t0)}");

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "/problems/validation");
    }

    [Theory]
    [InlineData("version=0", "version")]
    [InlineData("version=-1", "version")]
    [InlineData("version=abc", "version")]
    [InlineData("version=1.5", "version")]
    [InlineData("version=", "version")]
    [InlineData("version=99999999999", "version")]
    [InlineData("asOf=yesterday", "asOf")]
    [InlineData("asOf=2026-13-45T10:00:00Z", "asOf")]
    [InlineData("asOf=12345", "asOf")]
    [InlineData("asOf=", "asOf")]
    public async Task Bad_query_values_are_400(string query, string field)
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await host.Reader.GetAsync($"/api/orders/{id}?{query}");

        await response.AssertValidationProblemAsync(field);
    }

    [Fact]
    public async Task Events_have_every_member_of_the_contract()
    {
        var (id, t0) = await OrderWithHistoryAsync();

        using var response = await host.Reader.GetAsync($"/api/orders/{id}/events");

        var page = await response.AssertJsonAsync(HttpStatusCode.OK);
        var events = page.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 3, 4, 5], events.Select(e => e.Int("version")));
        Assert.Equal(["OrderPlaced", "OrderPaid", "OrderShipped", "OrderDelivered", "OrderRefunded"], events.Select(e => e.Str("type")));
        Assert.Equal([t0, t0.AddMinutes(10), t0.AddMinutes(20), t0.AddMinutes(30), t0.AddMinutes(40)],
            events.Select(e => e.GetProperty("occurredAt").GetDateTimeOffset()));
        foreach (var e in events)
        {
            Assert.NotEqual(Guid.Empty, e.GetProperty("eventId").GetGuid());
            var recordedAt = e.GetProperty("recordedAt").GetDateTimeOffset();
            Assert.True(Math.Abs((recordedAt - DateTimeOffset.UtcNow).TotalMinutes) < 5, $"recordedAt {recordedAt} is not the time of recording");
            Assert.True(e.TryGetProperty("correlationId", out _));
            Assert.Equal(JsonValueKind.Object, e.GetProperty("data").ValueKind);
        }

        Assert.Equal(events.Length, events.Select(e => e.GetProperty("eventId").GetGuid()).Distinct().Count());
        Assert.Equal(TestOrders.Total, events[1].GetProperty("data").Dec("amount"));
        Assert.Equal("DHL", events[2].GetProperty("data").Str("carrier"));
        Assert.True(!page.TryGetProperty("next", out var next) || next.ValueKind == JsonValueKind.Null, $"A complete page has no next link: {page}");
    }

    [Fact]
    public async Task Events_are_paged_and_the_next_link_leads_to_the_end()
    {
        var (id, _) = await OrderWithHistoryAsync();

        var versions = new List<int>();
        var pages = 0;
        string? next = $"/api/orders/{id}/events?fromVersion=1&limit=2";
        while (next is not null)
        {
            Assert.True(++pages <= 5, "The next links do not end.");
            using var response = await host.Reader.GetAsync(next);
            var page = await response.AssertJsonAsync(HttpStatusCode.OK);
            var events = page.GetProperty("events").EnumerateArray().Select(e => e.Int("version")).ToArray();
            Assert.InRange(events.Length, 1, 2);
            versions.AddRange(events);
            next = page.TryGetProperty("next", out var link) && link.ValueKind == JsonValueKind.String ? link.GetString() : null;
        }

        Assert.Equal(3, pages);
        Assert.Equal([1, 2, 3, 4, 5], versions);
    }

    [Fact]
    public async Task Events_from_a_version_with_a_limit()
    {
        var (id, _) = await OrderWithHistoryAsync();

        using var middle = await host.Reader.GetAsync($"/api/orders/{id}/events?fromVersion=2&limit=3");
        var page = await middle.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal([2, 3, 4], page.GetProperty("events").EnumerateArray().Select(e => e.Int("version")));
        Assert.Equal($"/api/orders/{id}/events?fromVersion=5&limit=3", page.Str("next"));

        using var last = await host.Reader.GetAsync($"/api/orders/{id}/events?fromVersion=5&limit=1");
        var lastPage = await last.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal([5], lastPage.GetProperty("events").EnumerateArray().Select(e => e.Int("version")));
        Assert.True(!lastPage.TryGetProperty("next", out var next) || next.ValueKind == JsonValueKind.Null);

        using var past = await host.Reader.GetAsync($"/api/orders/{id}/events?fromVersion=6");
        var empty = await past.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(0, empty.GetProperty("events").GetArrayLength());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=", "limit")]
    [InlineData("fromVersion=0", "fromVersion")]
    [InlineData("fromVersion=-1", "fromVersion")]
    [InlineData("fromVersion=x", "fromVersion")]
    public async Task Bad_paging_values_are_400(string query, string field)
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await host.Reader.GetAsync($"/api/orders/{id}/events?{query}");

        await response.AssertValidationProblemAsync(field);
    }

    [Fact]
    public async Task The_largest_page_is_accepted()
    {
        var id = await host.OrderInStatusAsync("paid");

        using var response = await host.Reader.GetAsync($"/api/orders/{id}/events?limit=1000");

        var page = await response.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(2, page.GetProperty("events").GetArrayLength());
    }
}
