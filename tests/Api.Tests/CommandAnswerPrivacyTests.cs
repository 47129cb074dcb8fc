using System.Net;
using System.Reflection;
using System.Text.Json;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Customers;
using OrderFlow.Orders;
using OrderFlow.PersonalData;

namespace OrderFlow.Api.Tests;

/// <summary>
/// API.md "Authentication": the writer role sends commands and does not read. Review finding: a
/// command's answer carried the whole view, so a writer could read any customer's name and email
/// (a profile change and back) or any order's address (a repeated payment). Answers to a caller that
/// may not read come without personal data and say so in Personal-Data-Withheld; what is stored is
/// unchanged, and a caller that may read gets it whole.
/// </summary>
public sealed class CommandAnswerPrivacyTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Withheld = "Personal-Data-Withheld";

    private readonly ApiHost host = fixture.Host;

    private static void AssertNull(JsonElement view, params string[] members)
    {
        foreach (var member in members)
        {
            Assert.True(view.GetProperty(member).ValueKind == JsonValueKind.Null, $"{member} is shown: {view}");
        }
    }

    /// <summary>Second review: the members withheld are written out by hand; a member newly marked [PersonalData] must be among them.</summary>
    [Fact]
    public void Every_member_marked_personal_data_is_withheld()
    {
        var now = DateTimeOffset.UtcNow;
        AssertWithheld(new OrderView("o", "c", OrderStatus.Placed, "EUR", [], 1m, 0m, 0m, 1, now, now,
            new ShippingAddress("Ada Lovelace", "Unter den Linden 1", "Hinterhaus", "Berlin", "10117", "DE")), CommandAnswerPrivacy.WithoutPersonalData);
        AssertWithheld(new CustomerView("c", "Ada Lovelace", "ada@example.com", "GB", 1, now, now), CommandAnswerPrivacy.WithoutPersonalData);
    }

    private static void AssertWithheld<TView>(TView whole, Func<TView, TView> withhold)
    {
        var personal = typeof(TView).GetProperties().Where(property => property.GetCustomAttribute<PersonalDataAttribute>() is not null).ToList();
        Assert.NotEmpty(personal);
        Assert.All(personal, property => Assert.NotNull(property.GetValue(whole)));
        var withheld = withhold(whole);
        Assert.All(personal, property => Assert.Null(property.GetValue(withheld)));
    }

    [Fact]
    public async Task A_writer_gets_customer_answers_without_name_and_email()
    {
        var id = TestCustomers.NewId();
        using (var registered = await host.Writer.PostAsync("/api/customers", TestCustomers.RegisterBody(id).ToJsonString()))
        {
            var view = await registered.AssertJsonAsync(HttpStatusCode.Created);
            AssertNull(view, "name", "email");
            Assert.Equal(TestCustomers.Country, view.Str("country"));
            Assert.Equal(["true"], registered.Headers.GetValues(Withheld));
        }

        using (var changed = await host.Writer.PostAsync($"/api/customers/{id}/profile", TestCustomers.ProfileBody(country: "FR").ToJsonString()))
        {
            var view = await changed.AssertJsonAsync(HttpStatusCode.OK);
            AssertNull(view, "name", "email");
            Assert.Equal(("FR", 2), (view.Str("country"), view.Int("version")));
            Assert.Equal(["true"], changed.Headers.GetValues(Withheld));
        }

        var read = await host.GetCustomerAsync(id);
        Assert.Equal((TestCustomers.Name, TestCustomers.Email), (read.Str("name"), read.Str("email")));
        using var byAdmin = await host.Admin.PostAsync($"/api/customers/{id}/profile", TestCustomers.ProfileBody(country: "GB").ToJsonString());
        Assert.Equal(TestCustomers.Name, (await byAdmin.AssertJsonAsync(HttpStatusCode.OK)).Str("name"));
        Assert.False(byAdmin.Headers.Contains(Withheld));
    }

    [Fact]
    public async Task A_writer_gets_order_answers_without_the_shipping_address()
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        body["shippingAddress"] = TestOrders.ShippingAddress();
        using (var placed = await host.Writer.PostAsync("/api/orders", body.ToJsonString()))
        {
            var view = await placed.AssertJsonAsync(HttpStatusCode.Created);
            AssertNull(view, "shippingAddress");
            Assert.Equal(["true"], placed.Headers.GetValues(Withheld));
        }

        var payment = TestOrders.PayBody();
        using (var paid = await host.Writer.PostAsync($"/api/orders/{id}/payments", payment.ToJsonString()))
        {
            AssertNull(await paid.AssertJsonAsync(HttpStatusCode.OK), "shippingAddress");
        }

        using (var repeated = await host.Writer.PostAsync($"/api/orders/{id}/payments", payment.ToJsonString()))
        {
            AssertNull(await repeated.AssertJsonAsync(HttpStatusCode.OK), "shippingAddress"); // the same payment: answered from the order, nothing written
        }

        Assert.Equal("Unter den Linden 1", (await host.GetOrderAsync(id)).GetProperty("shippingAddress").Str("line1"));
    }
}
