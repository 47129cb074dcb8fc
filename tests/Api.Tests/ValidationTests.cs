using System.Net;
using System.Text.Json.Nodes;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// API.md "Validation (400)": every rule, with <c>errors</c> naming the field by its JSON path, and
/// nothing written by the refused request.
/// </summary>
public sealed class ValidationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private static readonly string TooLongText = new('t', 201);
    private static readonly string TooLongId = new('i', 65);

    private readonly ApiHost host = fixture.Host;

    private static JsonObject Item(int quantity = 1, decimal unitPrice = 1m) =>
        new() { ["sku"] = "sku-1", ["quantity"] = quantity, ["unitPrice"] = unitPrice };

    /// <summary>Place-order bodies that break one rule each, by case name; the test names the field expected in errors.</summary>
    private static readonly Dictionary<string, Action<JsonObject>> PlaceCases = new()
    {
        ["orderId with a space"] = b => b["orderId"] = "bad id",
        ["orderId with a slash"] = b => b["orderId"] = "a/b",
        ["orderId of 65 characters"] = b => b["orderId"] = TooLongId,
        ["orderId empty"] = b => b["orderId"] = "",
        ["customerId missing"] = b => b.Remove("customerId"),
        ["customerId with a space"] = b => b["customerId"] = "cust 1",
        ["customerId of 65 characters"] = b => b["customerId"] = TooLongId,
        ["currency missing"] = b => b.Remove("currency"),
        ["currency lower case"] = b => b["currency"] = "eur",
        ["currency of 4 letters"] = b => b["currency"] = "EURO",
        ["currency of 2 letters"] = b => b["currency"] = "EU",
        ["currency with a digit"] = b => b["currency"] = "EU1",
        ["items missing"] = b => b.Remove("items"),
        ["0 items"] = b => b["items"] = new JsonArray(),
        ["101 items"] = b => b["items"] = new JsonArray([.. Enumerable.Range(0, 101).Select(_ => (JsonNode)Item())]),
        ["sku missing"] = b => b["items"]![0]!.AsObject().Remove("sku"),
        ["sku with a space"] = b => b["items"]![0]!["sku"] = "sku 1",
        ["quantity 0"] = b => b["items"]![0]!["quantity"] = 0,
        ["quantity 10001"] = b => b["items"]![0]!["quantity"] = 10_001,
        ["quantity negative"] = b => b["items"]![0]!["quantity"] = -1,
        ["quantity missing"] = b => b["items"]![0]!.AsObject().Remove("quantity"),
        ["unitPrice negative"] = b => b["items"]![0]!["unitPrice"] = -0.01m,
        ["unitPrice over 1,000,000"] = b => b["items"]![0]!["unitPrice"] = 1_000_000.01m,
        ["unitPrice with 3 decimals"] = b => b["items"]![0]!["unitPrice"] = 1.234m,
        ["unitPrice missing"] = b => b["items"]![0]!.AsObject().Remove("unitPrice"),
        ["second item's quantity 0"] = b => b["items"]!.AsArray().Add(Item(quantity: 0)),
        ["item null"] = b => b["items"] = new JsonArray((JsonNode?)null),
        ["occurredAt 1 minute in the future"] = b => b["occurredAt"] = TestOrders.Time(DateTimeOffset.UtcNow.AddMinutes(1)),
        ["occurredAt 1 day in the future"] = b => b["occurredAt"] = TestOrders.Time(DateTimeOffset.UtcNow.AddDays(1)),
        ["occurredAt in the year 1600"] = b => b["occurredAt"] = "1600-12-31T23:59:59Z",
        ["shippingAddress without recipient"] = b => b["shippingAddress"] = Address(a => a.Remove("recipient")),
        ["shippingAddress with a blank line1"] = b => b["shippingAddress"] = Address(a => a["line1"] = "  "),
        ["shippingAddress with a line2 of 201 characters"] = b => b["shippingAddress"] = Address(a => a["line2"] = TooLongText),
        ["shippingAddress with a line break in city"] = b => b["shippingAddress"] = Address(a => a["city"] = "Ber\nlin"),
        ["shippingAddress without postalCode"] = b => b["shippingAddress"] = Address(a => a.Remove("postalCode")),
        ["shippingAddress with a postalCode of 17 characters"] = b => b["shippingAddress"] = Address(a => a["postalCode"] = new string('1', 17)),
        ["shippingAddress without country"] = b => b["shippingAddress"] = Address(a => a.Remove("country")),
        ["shippingAddress with country lower case"] = b => b["shippingAddress"] = Address(a => a["country"] = "de"),
        ["shippingAddress with country UK (reserved: GB)"] = b => b["shippingAddress"] = Address(a => a["country"] = "UK"),
        ["shippingAddress with a 3-letter country"] = b => b["shippingAddress"] = Address(a => a["country"] = "DEU"),
        ["shippingAddress with a number as country"] = b => b["shippingAddress"] = Address(a => a["country"] = 49),
        ["shippingAddress a string"] = b => b["shippingAddress"] = "Unter den Linden 1, Berlin",
    };

    private static JsonObject Address(Action<JsonObject> change)
    {
        var address = TestOrders.ShippingAddress();
        change(address);
        return address;
    }

    public static TheoryData<string, string> PlaceRules => new()
    {
        { "orderId with a space", "orderId" },
        { "orderId with a slash", "orderId" },
        { "orderId of 65 characters", "orderId" },
        { "orderId empty", "orderId" },
        { "customerId missing", "customerId" },
        { "customerId with a space", "customerId" },
        { "customerId of 65 characters", "customerId" },
        { "currency missing", "currency" },
        { "currency lower case", "currency" },
        { "currency of 4 letters", "currency" },
        { "currency of 2 letters", "currency" },
        { "currency with a digit", "currency" },
        { "items missing", "items" },
        { "0 items", "items" },
        { "101 items", "items" },
        { "sku missing", "items[0].sku" },
        { "sku with a space", "items[0].sku" },
        { "quantity 0", "items[0].quantity" },
        { "quantity 10001", "items[0].quantity" },
        { "quantity negative", "items[0].quantity" },
        { "quantity missing", "items[0].quantity" },
        { "unitPrice negative", "items[0].unitPrice" },
        { "unitPrice over 1,000,000", "items[0].unitPrice" },
        { "unitPrice with 3 decimals", "items[0].unitPrice" },
        { "unitPrice missing", "items[0].unitPrice" },
        { "second item's quantity 0", "items[1].quantity" },
        { "item null", "items[0]" },
        { "occurredAt 1 minute in the future", "occurredAt" },
        { "occurredAt 1 day in the future", "occurredAt" },
        { "occurredAt in the year 1600", "occurredAt" },
        { "shippingAddress without recipient", "shippingAddress.recipient" },
        { "shippingAddress with a blank line1", "shippingAddress.line1" },
        { "shippingAddress with a line2 of 201 characters", "shippingAddress.line2" },
        { "shippingAddress with a line break in city", "shippingAddress.city" },
        { "shippingAddress without postalCode", "shippingAddress.postalCode" },
        { "shippingAddress with a postalCode of 17 characters", "shippingAddress.postalCode" },
        { "shippingAddress without country", "shippingAddress.country" },
        { "shippingAddress with country lower case", "shippingAddress.country" },
        { "shippingAddress with country UK (reserved: GB)", "shippingAddress.country" },
        { "shippingAddress with a 3-letter country", "shippingAddress.country" },
        { "shippingAddress with a number as country", "shippingAddress.country" },
        { "shippingAddress a string", "shippingAddress" },
    };

    [Theory]
    [MemberData(nameof(PlaceRules))]
    public async Task Place_refuses_an_invalid_field_with_400_naming_it(string rule, string field)
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        PlaceCases[rule](body);

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        await response.AssertValidationProblemAsync(field);
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task Place_without_an_order_id_that_is_invalid_writes_nothing()
    {
        var body = TestOrders.PlaceBody(null);
        body["currency"] = "eur";
        var key = "idem-" + Guid.NewGuid().ToString("N");

        using var refused = await host.Writer.PostAsync("/api/orders", body.ToJsonString(), idempotencyKey: key);
        await refused.AssertValidationProblemAsync("currency");

        // The same key with a corrected body is a new request: the refusal was not remembered.
        using var placed = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(null).ToJsonString(), idempotencyKey: key);
        var order = await placed.AssertJsonAsync(HttpStatusCode.Created);
        Assert.False(placed.Headers.Contains("Idempotent-Replayed"));
        await host.AssertNothingWrittenAsync(order.Str("orderId"), 1);
    }

    [Fact]
    public async Task Place_reports_every_invalid_field_at_once()
    {
        var id = TestOrders.NewId();
        var body = new JsonObject
        {
            ["orderId"] = id,
            ["currency"] = "euro",
            ["items"] = new JsonArray(Item(quantity: 0, unitPrice: 1.001m), Item(quantity: 10_001, unitPrice: -1m)),
        };

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        await response.AssertValidationProblemAsync(
            "customerId", "currency", "items[0].quantity", "items[0].unitPrice", "items[1].quantity", "items[1].unitPrice");
        await host.AssertNothingWrittenAsync(id, 0);
    }

    /// <summary>Review finding: a malformed orderId was reported alone, hiding the body's other errors (the grain and a registration report every field at once).</summary>
    [Fact]
    public async Task Place_with_a_malformed_order_id_reports_every_invalid_field_at_once()
    {
        var body = new JsonObject
        {
            ["orderId"] = "a b",
            ["currency"] = "euro",
            ["items"] = new JsonArray(),
        };

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        await response.AssertValidationProblemAsync("orderId", "customerId", "currency", "items");
    }

    [Fact]
    public async Task Place_accepts_the_boundaries()
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        body["orderId"] = id + new string('x', 64 - id.Length);
        var items = new JsonArray(Item(quantity: 10_000, unitPrice: 1_000_000m), Item(quantity: 1, unitPrice: 0m), Item(unitPrice: 0.01m));
        for (var i = items.Count; i < 100; i++)
        {
            items.Add(Item());
        }

        body["items"] = items;
        body["occurredAt"] = TestOrders.Time(DateTimeOffset.UtcNow.AddSeconds(2)); // within the 5 s allowed for clock skew

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        var order = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(64, order.Str("orderId").Length);
        Assert.Equal(100, order.GetProperty("items").GetArrayLength());
        Assert.Equal(10_000m * 1_000_000m + 0.01m + 97m, order.Dec("total"));
    }

    /// <summary>Command bodies that break one rule each: ("command: rule", the field expected in errors); see <see cref="CommandCase"/>.</summary>
    public static TheoryData<string, string> CommandRules => new()
    {
        { "payment: paymentId missing", "paymentId" },
        { "payment: paymentId with a space", "paymentId" },
        { "payment: paymentId of 65 characters", "paymentId" },
        { "payment: amount missing", "amount" },
        { "payment: amount negative", "amount" },
        { "payment: amount with 3 decimals", "amount" },
        { "payment: method missing", "method" },
        { "payment: method blank", "method" },
        { "payment: method of 201 characters", "method" },
        { "payment: occurredAt in the future", "occurredAt" },
        { "payment: occurredAt before placement", "occurredAt" },
        { "shipment: carrier missing", "carrier" },
        { "shipment: carrier of 201 characters", "carrier" },
        { "shipment: trackingNumber missing", "trackingNumber" },
        { "shipment: trackingNumber of 201 characters", "trackingNumber" },
        { "shipment: occurredAt in the future", "occurredAt" },
        { "shipment: occurredAt before payment", "occurredAt" },
        { "delivery: occurredAt in the future", "occurredAt" },
        { "delivery: occurredAt before shipment", "occurredAt" },
        { "cancellation: reason missing", "reason" },
        { "cancellation: reason of 201 characters", "reason" },
        { "cancellation: occurredAt in the future", "occurredAt" },
        { "cancellation: occurredAt before placement", "occurredAt" },
        { "refund: refundId missing", "refundId" },
        { "refund: refundId with a slash", "refundId" },
        { "refund: amount 0", "amount" },
        { "refund: amount negative", "amount" },
        { "refund: amount with 3 decimals", "amount" },
        { "refund: amount missing", "amount" },
        { "refund: reason missing", "reason" },
        { "refund: reason of 201 characters", "reason" },
        { "refund: occurredAt in the future", "occurredAt" },
        { "refund: occurredAt before delivery", "occurredAt" },
    };

    [Theory]
    [MemberData(nameof(CommandRules))]
    public async Task A_command_refuses_an_invalid_field_with_400_naming_it(string rule, string field)
    {
        var (route, status, body) = CommandCase(rule);
        var id = await OrderWithPastEventsAsync(status);

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/{route}", body.ToJsonString());

        await response.AssertValidationProblemAsync(field);
        await host.AssertNothingWrittenAsync(id, Version(status));
    }

    [Fact]
    public async Task An_empty_command_body_names_every_required_field()
    {
        var id = await host.OrderInStatusAsync("placed");

        using var pay = await host.Writer.PostAsync($"/api/orders/{id}/payments", "{}");
        await pay.AssertValidationProblemAsync("paymentId", "amount", "method");

        using var cancel = await host.Writer.PostAsync($"/api/orders/{id}/cancellation", "{}");
        await cancel.AssertValidationProblemAsync("reason");

        await host.AssertNothingWrittenAsync(id, 1);
    }

    [Fact]
    public async Task Text_of_exactly_200_characters_is_accepted()
    {
        var id = await host.OrderInStatusAsync("paid");
        var text = new string('t', 200);

        var order = await host.CommandAsync(id, "shipment", new JsonObject { ["carrier"] = text, ["trackingNumber"] = text });

        Assert.Equal("shipped", order.Str("status"));
    }

    [Fact]
    public async Task OccurredAt_equal_to_the_previous_event_is_accepted()
    {
        var placedAt = DateTimeOffset.UtcNow.AddMinutes(-10);
        var id = TestOrders.NewId();
        await host.PlaceAsync(id, placedAt);

        var order = await host.PayAsync(id, placedAt);

        Assert.Equal("paid", order.Str("status"));
    }

    public static TheoryData<string> CommandRoutes => ["payments", "shipment", "delivery", "cancellation", "refunds"];

    [Theory]
    [MemberData(nameof(CommandRoutes))]
    public async Task A_bad_order_id_in_the_route_is_400(string route)
    {
        foreach (var id in new[] { "bad%20id", "bad!id", Uri.EscapeDataString("bad@id"), TooLongId })
        {
            using var response = await host.Writer.PostAsync($"/api/orders/{id}/{route}", TestOrders.PayBody().ToJsonString());
            await response.AssertValidationProblemAsync("id");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("/events")]
    public async Task A_bad_order_id_in_a_query_route_is_400(string suffix)
    {
        foreach (var id in new[] { "bad%20id", "bad!id", TooLongId })
        {
            using var response = await host.Reader.GetAsync($"/api/orders/{id}{suffix}");
            await response.AssertValidationProblemAsync("id");
        }
    }

    public static TheoryData<string> BadIdempotencyKeys => ["has space", "tab\tinside", new string('k', 201)];

    [Theory]
    [MemberData(nameof(BadIdempotencyKeys))]
    public async Task A_bad_Idempotency_Key_header_is_400(string key)
    {
        var id = TestOrders.NewId();
        using var place = await SendWithRawHeaderAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString(), key);
        await place.AssertValidationProblemAsync("Idempotency-Key");
        await host.AssertNothingWrittenAsync(id, 0);

        await host.PlaceAsync(id);
        using var pay = await SendWithRawHeaderAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString(), key);
        await pay.AssertValidationProblemAsync("Idempotency-Key");
        await host.AssertNothingWrittenAsync(id, 1);
    }

    /// <summary>The API takes 1–200 visible ASCII characters as an Idempotency-Key (else 400): any such key must work.</summary>
    [Theory]
    [InlineData('k')]
    [InlineData('~')]
    [InlineData('/')]
    public async Task An_Idempotency_Key_of_200_visible_characters_is_accepted(char filler)
    {
        var key = Guid.NewGuid().ToString("N") + new string(filler, 200 - 32);
        using var response = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString(), idempotencyKey: key);
        await response.AssertJsonAsync(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("")]
    public async Task A_bad_X_Correlation_Id_header_is_400(string correlationId)
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await SendWithRawHeaderAsync($"/api/orders/{id}/cancellation", TestOrders.CancelBody().ToJsonString(), correlationId, "X-Correlation-Id");

        await response.AssertValidationProblemAsync("X-Correlation-Id");
        await host.AssertNothingWrittenAsync(id, 1);
    }

    private async Task<HttpResponseMessage> SendWithRawHeaderAsync(string path, string json, string value, string header = "Idempotency-Key")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", ApiHost.WriterKey);
        request.Headers.TryAddWithoutValidation(header, value);
        return await host.SendRawAsync(request);
    }

    // Orders for the command cases have event times an hour, 50, 40 and 30 minutes ago, so that
    // "before the previous event" is easy to express.
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UtcNow.AddHours(-1);

    private static int Version(string status) => status switch
    {
        "placed" => 1,
        "paid" => 2,
        "shipped" => 3,
        _ => 4,
    };

    private async Task<string> OrderWithPastEventsAsync(string status)
    {
        var id = TestOrders.NewId();
        await host.PlaceAsync(id, Epoch);
        if (Version(status) >= 2)
        {
            await host.PayAsync(id, Epoch.AddMinutes(10));
        }

        if (Version(status) >= 3)
        {
            await host.ShipAsync(id, Epoch.AddMinutes(20));
        }

        if (Version(status) >= 4)
        {
            await host.DeliverAsync(id, Epoch.AddMinutes(30));
        }

        return id;
    }

    private static (string Route, string Status, JsonObject Body) CommandCase(string rule)
    {
        var future = TestOrders.Time(DateTimeOffset.UtcNow.AddMinutes(1));
        var command = rule[..rule.IndexOf(':', StringComparison.Ordinal)];
        var (route, status, body) = command switch
        {
            "payment" => ("payments", "placed", TestOrders.PayBody()),
            "shipment" => ("shipment", "paid", TestOrders.ShipBody()),
            "delivery" => ("delivery", "shipped", TestOrders.DeliverBody()),
            "cancellation" => ("cancellation", "placed", TestOrders.CancelBody()),
            "refund" => ("refunds", "delivered", TestOrders.RefundBody(1m)),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, null),
        };

        Action<JsonObject> breakIt = rule[(command.Length + 2)..] switch
        {
            "paymentId missing" => b => b.Remove("paymentId"),
            "paymentId with a space" => b => b["paymentId"] = "pay 1",
            "paymentId of 65 characters" => b => b["paymentId"] = TooLongId,
            "amount missing" => b => b.Remove("amount"),
            "amount negative" => b => b["amount"] = -21m,
            "amount with 3 decimals" => b => b["amount"] = command == "payment" ? 21.001m : 1.001m,
            "amount 0" => b => b["amount"] = 0m,
            "method missing" => b => b.Remove("method"),
            "method blank" => b => b["method"] = "   ",
            "method of 201 characters" => b => b["method"] = TooLongText,
            "carrier missing" => b => b.Remove("carrier"),
            "carrier of 201 characters" => b => b["carrier"] = TooLongText,
            "trackingNumber missing" => b => b.Remove("trackingNumber"),
            "trackingNumber of 201 characters" => b => b["trackingNumber"] = TooLongText,
            "reason missing" => b => b.Remove("reason"),
            "reason of 201 characters" => b => b["reason"] = TooLongText,
            "refundId missing" => b => b.Remove("refundId"),
            "refundId with a slash" => b => b["refundId"] = "ref/1",
            "occurredAt in the future" => b => b["occurredAt"] = future,
            // One second before the order's latest event (see OrderWithPastEventsAsync).
            "occurredAt before placement" or "occurredAt before payment" or "occurredAt before shipment" or "occurredAt before delivery" =>
                b => b["occurredAt"] = TestOrders.Time(Epoch.AddMinutes(10 * (Version(status) - 1)).AddSeconds(-1)),
            var other => throw new ArgumentOutOfRangeException(nameof(rule), other, null),
        };
        breakIt(body);
        return (route, status, body);
    }
}
