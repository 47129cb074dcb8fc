using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// API.md "Customers": any data subject can be erased, also one who never registered but whom
/// orders name (with their shipping address). The erasure starts that customer's log, their orders
/// read as erased (through snapshots too), a repeat changes nothing, and a later registration, whose
/// name and email would need a new key, is refused.
/// </summary>
public sealed class UnregisteredSubjectErasureTests(UnregisteredSubjectErasureTests.SmallSnapshotsHost fixture)
    : IClassFixture<UnregisteredSubjectErasureTests.SmallSnapshotsHost>
{
    /// <summary>Snapshots every two events, so that an order's snapshot holds its sealed address.</summary>
    public sealed class SmallSnapshotsHost(AzuriteFixture azurite) : ApiHostFixture(azurite)
    {
        public const int SnapshotInterval = 2;

        protected override void Configure(WebApplicationBuilder builder) =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["EventStore:SnapshotInterval"] = SnapshotInterval.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    private readonly ApiHost host = fixture.Host;

    private static void AssertErasedAndNotRegistered(JsonElement customer, string id)
    {
        Assert.Equal(id, customer.Str("customerId"));
        Assert.True(customer.GetProperty("erased").GetBoolean(), $"Not erased: {customer}");
        foreach (var member in new[] { "name", "email", "country", "registeredAt" })
        {
            Assert.True(customer.GetProperty(member).ValueKind == JsonValueKind.Null, $"{member} is not null: {customer}");
        }

        Assert.Equal(1, customer.Int("version"));
    }

    [Fact]
    public async Task A_customer_named_only_by_orders_is_erased_and_their_orders_read_as_erased_snapshots_included()
    {
        var (customerId, orderId) = (TestCustomers.NewId(), TestOrders.NewId());
        var placement = TestOrders.PlaceBody(orderId);
        placement["customerId"] = customerId;
        placement["shippingAddress"] = TestOrders.ShippingAddress();
        using (var placed = await host.Admin.PostAsync("/api/orders", placement.ToJsonString()))
        {
            Assert.Equal("Unter den Linden 1", (await placed.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("shippingAddress").Str("line1"));
        }

        await host.PayAsync(orderId); // version 2: the snapshot, with the address sealed in it
        using (var unknown = await host.Reader.GetAsync($"/api/customers/{customerId}"))
        {
            await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        }

        using var erasure = await host.Admin.PostAsync($"/api/customers/{customerId}/erasure", null);

        AssertErasedAndNotRegistered(await erasure.AssertJsonAsync(HttpStatusCode.OK), customerId);
        AssertErasedAndNotRegistered(await host.GetCustomerAsync(customerId), customerId);
        var audit = Assert.Single(await host.GetAllCustomerEventsAsync(customerId));
        Assert.Equal(("CustomerPersonalDataErased", 1), (audit.Str("type"), audit.Int("version")));
        Assert.Equal(TestCustomers.KeyCaller(ApiHost.AdminKey), audit.GetProperty("data").Str("erasedBy"));

        // The order now (its activation held the address), a command's answer, and the version its snapshot holds (read from storage).
        AssertOrderErased(await host.GetOrderAsync(orderId));
        AssertOrderErased(await host.ShipAsync(orderId));
        AssertOrderErased(await host.GetOrderAsync(orderId, $"?version={SmallSnapshotsHost.SnapshotInterval}"));
        var placedEvent = (await host.GetAllEventsAsync(orderId))[0];
        Assert.True(placedEvent.GetProperty("personalDataErased").GetBoolean());
        Assert.Equal(JsonValueKind.Null, placedEvent.GetProperty("data").GetProperty("shippingAddress").ValueKind);
    }

    [Fact]
    public async Task Erasing_an_unregistered_subject_again_answers_the_same_and_writes_nothing()
    {
        var customerId = TestCustomers.NewId();
        using var first = await host.Admin.PostAsync($"/api/customers/{customerId}/erasure", "{}");
        var erased = await first.AssertJsonAsync(HttpStatusCode.OK);

        using var again = await host.Admin.PostAsync($"/api/customers/{customerId}/erasure", null);

        var second = await again.AssertJsonAsync(HttpStatusCode.OK);
        AssertErasedAndNotRegistered(second, customerId);
        Assert.Equal(erased.GetRawText(), second.GetRawText());
        await host.AssertNothingWrittenToCustomerAsync(customerId, 1);
    }

    [Fact]
    public async Task An_erased_subject_cannot_register_nor_change_a_profile_afterwards()
    {
        var customerId = TestCustomers.NewId();
        using (var erasure = await host.Admin.PostAsync($"/api/customers/{customerId}/erasure", null))
        {
            await erasure.AssertJsonAsync(HttpStatusCode.OK);
        }

        using (var registration = await host.Writer.PostAsync("/api/customers", TestCustomers.RegisterBody(customerId).ToJsonString()))
        {
            await registration.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "/problems/unprocessable");
        }

        using (var change = await host.Writer.PostAsync($"/api/customers/{customerId}/profile", TestCustomers.ProfileBody(country: "FR").ToJsonString()))
        {
            await change.AssertProblemAsync(HttpStatusCode.Conflict, "/problems/invalid-transition");
        }

        await host.AssertNothingWrittenToCustomerAsync(customerId, 1);
    }

    private static void AssertOrderErased(JsonElement order)
    {
        Assert.True(order.GetProperty("personalDataErased").GetBoolean(), $"Not erased: {order}");
        Assert.Equal(JsonValueKind.Null, order.GetProperty("shippingAddress").ValueKind);
    }
}
