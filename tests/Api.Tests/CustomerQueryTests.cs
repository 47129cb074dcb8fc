using System.Net;
using System.Text.Json;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Customers": a customer now, as of an event time, and their events page by page.</summary>
public sealed class CustomerQueryTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    /// <summary>A customer with five events at known event times: registered at T0, then a name change every 10 minutes.</summary>
    private async Task<(string Id, DateTimeOffset T0)> CustomerWithHistoryAsync()
    {
        var t0 = new DateTimeOffset(DateTime.UtcNow.AddHours(-2).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id, t0);
        for (var i = 1; i <= 4; i++)
        {
            await host.ChangeProfileAsync(id, TestCustomers.ProfileBody(name: $"Name {i}", occurredAt: t0.AddMinutes(10 * i)));
        }

        return (id, t0);
    }

    [Fact]
    public async Task An_unknown_customer_is_404_now_as_of_a_time_and_for_events()
    {
        var id = TestCustomers.NewId();

        using var now = await host.Reader.GetAsync($"/api/customers/{id}");
        await now.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        using var asOf = await host.Reader.GetAsync($"/api/customers/{id}?asOf={TestOrders.Time(DateTimeOffset.UtcNow)}");
        await asOf.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        using var events = await host.Reader.GetAsync($"/api/customers/{id}/events");
        await events.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Fact]
    public async Task AsOf_returns_the_customer_as_they_stood_then()
    {
        var (id, t0) = await CustomerWithHistoryAsync();

        async Task<JsonElement> AsOf(DateTimeOffset time) => await host.GetCustomerAsync(id, "?asOf=" + Uri.EscapeDataString(TestOrders.Time(time)));

        var registered = await AsOf(t0); // inclusive
        Assert.Equal(1, registered.Int("version"));
        Assert.Equal(TestCustomers.Name, registered.Str("name"));
        Assert.Equal(t0, registered.GetProperty("updatedAt").GetDateTimeOffset());

        var second = await AsOf(t0.AddMinutes(25));
        Assert.Equal(3, second.Int("version"));
        Assert.Equal("Name 2", second.Str("name"));
        Assert.Equal(t0, second.GetProperty("registeredAt").GetDateTimeOffset());
        Assert.Equal(t0.AddMinutes(20), second.GetProperty("updatedAt").GetDateTimeOffset());

        Assert.Equal("Name 4", (await AsOf(DateTimeOffset.UtcNow)).Str("name"));
        Assert.Equal("Name 4", (await host.GetCustomerAsync(id)).Str("name"));

        using var before = await host.Reader.GetAsync($"/api/customers/{id}?asOf={Uri.EscapeDataString(TestOrders.Time(t0.AddSeconds(-1)))}");
        await before.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("1600-12-31T23:59:59Z")]
    [InlineData("2026-13-01T00:00:00Z")]
    public async Task An_asOf_that_is_not_a_time_in_range_is_400(string asOf)
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);

        using var response = await host.Reader.GetAsync($"/api/customers/{id}?asOf={Uri.EscapeDataString(asOf)}");

        await response.AssertValidationProblemAsync("asOf");
    }

    [Fact]
    public async Task Events_come_in_version_order_page_by_page_with_a_link_to_the_next()
    {
        var (id, t0) = await CustomerWithHistoryAsync();

        var seen = new List<JsonElement>();
        var pages = 0;
        string? next = $"/api/customers/{id}/events?limit=2";
        while (next is not null)
        {
            using var response = await host.Reader.GetAsync(next);
            var page = await response.AssertJsonAsync(HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("events").EnumerateArray());
            next = page.GetProperty("next").GetString();
            pages++;
            Assert.True(pages <= 3, "More pages than 5 events in pages of 2 make.");
            if (next is not null)
            {
                Assert.StartsWith($"/api/customers/{id}/events?fromVersion=", next, StringComparison.Ordinal);
            }
        }

        Assert.Equal(3, pages);
        Assert.Equal([1, 2, 3, 4, 5], seen.Select(e => e.Int("version")));
        Assert.Equal(["CustomerRegistered", "CustomerProfileChanged", "CustomerProfileChanged", "CustomerProfileChanged", "CustomerProfileChanged"],
            seen.Select(e => e.Str("type")));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => t0.AddMinutes(10 * i)), seen.Select(e => e.GetProperty("occurredAt").GetDateTimeOffset()));
        Assert.All(seen, e => Assert.Equal(JsonValueKind.Object, e.GetProperty("data").ValueKind));
        Assert.Equal(5, seen.Select(e => e.Str("eventId")).Distinct().Count());

        using var from4 = await host.Reader.GetAsync($"/api/customers/{id}/events?fromVersion=4");
        var tail = await from4.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal([4, 5], tail.GetProperty("events").EnumerateArray().Select(e => e.Int("version")));
        Assert.Equal(JsonValueKind.Null, tail.GetProperty("next").ValueKind);
    }

    [Theory]
    [InlineData("fromVersion=0", "fromVersion")]
    [InlineData("fromVersion=x", "fromVersion")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=-1", "limit")]
    public async Task Bad_paging_is_400_naming_the_parameter(string query, string field)
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);

        using var response = await host.Reader.GetAsync($"/api/customers/{id}/events?{query}");

        await response.AssertValidationProblemAsync(field);
    }

    [Theory]
    [InlineData("/api/customers/a%20b")]
    [InlineData("/api/customers/c%0A/events")]
    [InlineData("/api/customers/c%09/events")]
    public async Task A_bad_customer_id_in_a_query_route_is_400(string path)
    {
        using var response = await host.Reader.GetAsync(path);

        await response.AssertValidationProblemAsync("id");
    }
}
