using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// API.md "Customers": POST /api/customers/{id}/erasure (admin only) erases the customer's personal
/// data, records who asked (the authenticated caller, never a request field), and is idempotent.
/// </summary>
public sealed class CustomerErasureTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    private static void AssertErased(JsonElement customer, string id)
    {
        Assert.Equal(id, customer.Str("customerId"));
        Assert.True(customer.GetProperty("erased").GetBoolean(), $"Not erased: {customer}");
        Assert.Equal(JsonValueKind.Null, customer.GetProperty("name").ValueKind);
        Assert.Equal(JsonValueKind.Null, customer.GetProperty("email").ValueKind);
        Assert.Equal(TestCustomers.Country, customer.Str("country"));
    }

    [Fact]
    public async Task An_admin_erases_a_customer_and_the_audit_event_names_the_admin_not_the_body()
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);
        var body = new JsonObject { ["erasedBy"] = "someone-else", ["occurredAt"] = TestOrders.Time(DateTimeOffset.UtcNow) };

        using var response = await host.Admin.PostAsync($"/api/customers/{id}/erasure", body.ToJsonString());

        var erased = await response.AssertJsonAsync(HttpStatusCode.OK);
        AssertErased(erased, id);
        Assert.Equal(2, erased.Int("version"));
        AssertErased(await host.GetCustomerAsync(id), id);

        var events = await host.GetAllCustomerEventsAsync(id);
        var audit = events[^1];
        Assert.Equal("CustomerPersonalDataErased", audit.Str("type"));
        var data = audit.GetProperty("data");
        Assert.Equal(TestCustomers.KeyCaller(ApiHost.AdminKey), data.Str("erasedBy"));
        Assert.DoesNotContain("someone-else", audit.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_erasure_needs_no_body()
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);

        using var response = await host.Admin.PostAsync($"/api/customers/{id}/erasure", null);

        AssertErased(await response.AssertJsonAsync(HttpStatusCode.OK), id);
    }

    [Fact]
    public async Task Erasing_again_answers_the_erased_customer_and_writes_nothing()
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);
        using var first = await host.Admin.PostAsync($"/api/customers/{id}/erasure", "{}");
        var erased = await first.AssertJsonAsync(HttpStatusCode.OK);

        using var again = await host.Admin.PostAsync($"/api/customers/{id}/erasure", "{}");

        var second = await again.AssertJsonAsync(HttpStatusCode.OK);
        AssertErased(second, id);
        Assert.Equal(erased.Int("version"), second.Int("version"));
        await host.AssertNothingWrittenToCustomerAsync(id, erased.Int("version"));
    }

    [Fact]
    public async Task The_customer_as_of_a_time_before_the_erasure_shows_no_personal_data_either()
    {
        var id = TestCustomers.NewId();
        var registeredAt = DateTimeOffset.UtcNow.AddHours(-1);
        await host.RegisterCustomerAsync(id, registeredAt);
        using var erasure = await host.Admin.PostAsync($"/api/customers/{id}/erasure", null);
        await erasure.AssertJsonAsync(HttpStatusCode.OK);

        var before = await host.GetCustomerAsync(id, "?asOf=" + Uri.EscapeDataString(TestOrders.Time(registeredAt)));

        Assert.Equal(1, before.Int("version"));
        Assert.Equal(JsonValueKind.Null, before.GetProperty("name").ValueKind);
        Assert.Equal(JsonValueKind.Null, before.GetProperty("email").ValueKind);
    }

    [Fact]
    public async Task An_erased_profile_cannot_change()
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);
        using var erasure = await host.Admin.PostAsync($"/api/customers/{id}/erasure", null);
        var erased = await erasure.AssertJsonAsync(HttpStatusCode.OK);

        using var change = await host.Writer.PostAsync($"/api/customers/{id}/profile", TestCustomers.ProfileBody(name: "Ada King").ToJsonString());

        await change.AssertProblemAsync(HttpStatusCode.Conflict, "/problems/invalid-transition");
        await host.AssertNothingWrittenToCustomerAsync(id, erased.Int("version"));
    }

    [Fact]
    public async Task Only_an_admin_may_erase()
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);

        using (var writer = await host.Writer.PostAsync($"/api/customers/{id}/erasure", null))
        {
            await writer.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        }

        using (var reader = await host.Reader.PostAsync($"/api/customers/{id}/erasure", null))
        {
            await reader.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        }

        using (var anonymous = await host.Anonymous.PostAsync($"/api/customers/{id}/erasure", null))
        {
            await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        }

        var customer = await host.GetCustomerAsync(id);
        Assert.False(customer.GetProperty("erased").GetBoolean());
        Assert.Equal(TestCustomers.Name, customer.Str("name"));
        await host.AssertNothingWrittenToCustomerAsync(id, 1);
    }

    [Theory]
    [InlineData("""{ "occurredAt": 5 }""", "occurredAt")]
    [InlineData("""{ "occurredAt": "2026-01-01T00:00:00Z", "occurredAt": "2026-01-02T00:00:00Z" }""", "occurredAt")]
    [InlineData("[]", "$")]
    public async Task A_malformed_erasure_body_is_400_and_erases_nothing(string body, string field)
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);

        using var response = await host.Admin.PostAsync($"/api/customers/{id}/erasure", body);

        await response.AssertValidationProblemAsync(field);
        await host.AssertNothingWrittenToCustomerAsync(id, 1);
    }
}
