using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Issue 8 "Input, once and strictly", over HTTP: ids and text without control characters, ids
/// that can be read back, money exact as written, strict JSON, times in range; every refusal a 400
/// validation problem naming the field in plain words, and nothing written.
/// </summary>
public sealed class StrictInputTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    /// <summary>Words of framework messages that must never reach a client.</summary>
    private static readonly string[] FrameworkWords = ["System.", "Failed to read", "Required parameter", "Path:", "BytePositionInLine", "LineNumber", "could not be converted"];

    private static async Task AssertPlainValidationProblemAsync(HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.AssertValidationProblemAsync(fields);
        var text = problem.ToString();
        foreach (var word in FrameworkWords)
        {
            Assert.False(text.Contains(word, StringComparison.Ordinal), $"The problem document shows a framework message ('{word}'): {text}");
        }
    }

    public static TheoryData<string> PlaceFieldsEndingInANewline => ["orderId", "customerId", "items[0].sku"];

    [Theory]
    [MemberData(nameof(PlaceFieldsEndingInANewline))]
    public async Task An_id_ending_in_a_newline_is_refused_and_nothing_is_written(string field)
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        switch (field)
        {
            case "orderId": body["orderId"] = id + "\n"; break;
            case "customerId": body["customerId"] = "c\n"; break;
            default: body["items"]![0]!["sku"] = "sku-1\n"; break;
        }

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        await AssertPlainValidationProblemAsync(response, field);
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task Payment_and_refund_ids_ending_in_a_newline_are_refused()
    {
        var placed = await host.OrderInStatusAsync("placed");
        using (var pay = await host.Writer.PostAsync($"/api/orders/{placed}/payments", TestOrders.PayBody(paymentId: "pay-1\n").ToJsonString()))
        {
            await AssertPlainValidationProblemAsync(pay, "paymentId");
        }

        await host.AssertNothingWrittenAsync(placed, 1);

        var delivered = await host.OrderInStatusAsync("delivered");
        using (var refund = await host.Writer.PostAsync($"/api/orders/{delivered}/refunds", TestOrders.RefundBody(1m, refundId: "ref-1\n").ToJsonString()))
        {
            await AssertPlainValidationProblemAsync(refund, "refundId");
        }

        await host.AssertNothingWrittenAsync(delivered, 4);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("...")]
    public async Task An_order_id_of_dots_only_is_refused_because_it_could_not_be_read_back(string orderId)
    {
        var body = TestOrders.PlaceBody(orderId);

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        await AssertPlainValidationProblemAsync(response, "orderId");
    }

    [Theory]
    [InlineData("/api/orders/a%0A")]
    [InlineData("/api/orders/a%0A/events")]
    [InlineData("/api/orders/...")]
    [InlineData("/api/orders/.../events")]
    public async Task A_route_id_with_a_newline_or_of_dots_only_is_400(string path)
    {
        using var response = await host.Reader.GetAsync(path);

        await AssertPlainValidationProblemAsync(response, "id");
    }

    [Fact]
    public async Task A_command_route_id_ending_in_a_newline_is_400()
    {
        using var response = await host.Writer.PostAsync("/api/orders/a%0A/payments", TestOrders.PayBody().ToJsonString());

        await AssertPlainValidationProblemAsync(response, "id");
    }

    [Theory]
    [InlineData("carrier", "DHL\n")]
    [InlineData("trackingNumber", "TRK\u0000123")]
    [InlineData("carrier", "DHL\u0085")]
    public async Task Text_with_a_control_character_is_refused(string field, string value)
    {
        var id = await host.OrderInStatusAsync("paid");
        var body = TestOrders.ShipBody();
        body[field] = value;

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/shipment", body.ToJsonString());

        await AssertPlainValidationProblemAsync(response, field);
        await host.AssertNothingWrittenAsync(id, 2);
    }

    [Fact]
    public async Task A_lone_surrogate_escaped_in_JSON_text_is_refused()
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/cancellation", """{ "reason": "broken \ud800 text" }""");

        await AssertPlainValidationProblemAsync(response, "reason");
        await host.AssertNothingWrittenAsync(id, 1);
    }

    [Fact]
    public async Task Bidi_marks_and_emoji_are_accepted_as_text()
    {
        var id = await host.OrderInStatusAsync("placed");
        const string reason = "مرتجع \u200f \u202e txet 📦💔";

        var order = await host.CommandAsync(id, "cancellation", new JsonObject { ["reason"] = reason });

        Assert.Equal("cancelled", order.Str("status"));
        var cancelled = (await host.GetAllEventsAsync(id))[^1];
        Assert.Equal(reason, cancelled.GetProperty("data").GetProperty("reason").GetString());
    }

    public static TheoryData<string, string> MoneyNotExactAt2Decimals => new()
    {
        { "1e-30", "must have at most 2 decimals" },
        { "0.001", "must have at most 2 decimals" },
        { "1.2345e1", "must have at most 2 decimals" },
        { "1e300", "in magnitude" },
        { "79228162514264337593543950336", "in magnitude" },
    };

    [Theory]
    [MemberData(nameof(MoneyNotExactAt2Decimals))]
    public async Task A_unit_price_is_judged_as_written_and_refused_unless_exact_at_2_decimals(string unitPrice, string message)
    {
        var id = TestOrders.NewId();
        var body = $$"""{ "orderId": "{{id}}", "customerId": "c-1", "currency": "EUR", "items": [ { "sku": "s", "quantity": 1, "unitPrice": {{unitPrice}} } ] }""";

        using var response = await host.Writer.PostAsync("/api/orders", body);

        await AssertPlainValidationProblemAsync(response, "items[0].unitPrice");
        Assert.Contains(message, (await ErrorsAsync(response))["items[0].unitPrice"][0], StringComparison.Ordinal);
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Theory]
    [InlineData("payments", "1e-30")]
    [InlineData("payments", "1e300")]
    [InlineData("refunds", "1e-30")]
    [InlineData("refunds", "-1e300")]
    public async Task An_amount_is_judged_as_written(string route, string amount)
    {
        var id = await host.OrderInStatusAsync(route == "payments" ? "placed" : "delivered");
        var body = route == "payments"
            ? $$"""{ "paymentId": "p-1", "amount": {{amount}}, "method": "card" }"""
            : $$"""{ "refundId": "r-1", "amount": {{amount}}, "reason": "damaged" }""";

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/{route}", body);

        await AssertPlainValidationProblemAsync(response, "amount");
        await host.AssertNothingWrittenAsync(id, route == "payments" ? 1 : 4);
    }

    [Fact]
    public async Task Money_in_exponent_form_with_at_most_2_decimals_is_accepted()
    {
        var id = TestOrders.NewId();
        var body = $$"""{ "orderId": "{{id}}", "customerId": "c-1", "currency": "EUR", "items": [ { "sku": "s", "quantity": 2, "unitPrice": 1e2 }, { "sku": "t", "quantity": 1, "unitPrice": 1234e-2 } ] }""";

        using var response = await host.Writer.PostAsync("/api/orders", body);

        var order = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(212.34m, order.Dec("total"));
    }

    [Fact]
    public async Task A_whole_quantity_written_with_a_fraction_or_an_exponent_is_accepted()
    {
        var id = TestOrders.NewId();
        var body = $$"""{ "orderId": "{{id}}", "customerId": "c-1", "currency": "EUR", "items": [ { "sku": "s", "quantity": 2.0, "unitPrice": 1 }, { "sku": "t", "quantity": 1e1, "unitPrice": 1 }, { "sku": "u", "quantity": 300E-2, "unitPrice": 1 }, { "sku": "v", "quantity": 1E+1, "unitPrice": 1 } ] }""";

        using var response = await host.Writer.PostAsync("/api/orders", body);

        var order = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(25m, order.Dec("total"));
        Assert.Equal([2, 10, 3, 10], order.GetProperty("items").EnumerateArray().Select(line => line.GetProperty("quantity").GetInt32()));
    }

    /// <summary>The API's own converters read whole numbers and money; its description must still give their JSON types.</summary>
    [Fact]
    public async Task The_OpenAPI_document_calls_a_quantity_an_integer_and_money_a_number()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");
        var document = await response.AssertJsonAsync(HttpStatusCode.OK);

        var line = document.GetProperty("components").GetProperty("schemas").GetProperty("OrderLineRequest").GetProperty("properties");
        Assert.Contains("integer", Types(line.GetProperty("quantity")));
        Assert.Contains("number", Types(line.GetProperty("unitPrice")));

        static IEnumerable<string?> Types(JsonElement schema) =>
            schema.TryGetProperty("type", out var type)
                ? type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()) : [type.GetString()]
                : [];
    }

    /// <summary>Malformed bodies: (case, route, body, the JSON path errors must name, words of its message).</summary>
    public static TheoryData<string, string, string, string, string> MalformedBodies => new()
    {
        { "not JSON at all", "", "customerId=c-1", "$", "is not valid JSON" },
        { "cut off", "", """{ "customerId": "c-1", """, "$", "is not valid JSON" },
        { "trailing garbage", "", """{ "customerId": "c-1" } x""", "$", "is not valid JSON" },
        { "two documents", "", """{ "customerId": "c-1" } {}""", "$", "is not valid JSON" },
        { "null body", "", "null", "$", "must be a JSON object" },
        { "an array body", "", "[]", "$", "must be an object" },
        { "a string body", "", "\"order\"", "$", "must be an object" },
        { "a number for a string", "", """{ "customerId": 5, "currency": "EUR", "items": [] }""", "customerId", "must be a string" },
        { "a string for a number", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": "2", "unitPrice": 1 } ] }""", "items[0].quantity", "must be a whole number from 1 to 10,000" },
        { "a string for money", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": 2, "unitPrice": "1.00" } ] }""", "items[0].unitPrice", "must be a JSON number" },
        { "a fraction for a whole number", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": 1.5, "unitPrice": 1 } ] }""", "items[0].quantity", "must be a whole number from 1 to 10,000" },
        { "a whole number too large", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": 99999999999, "unitPrice": 1 } ] }""", "items[0].quantity", "must be a whole number from 1 to 10,000" },
        { "a fraction of 29 digits a decimal would round to a whole number", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": 0.99999999999999999999999999999, "unitPrice": 1 } ] }""", "items[0].quantity", "must be a whole number from 1 to 10,000" },
        { "a fraction in exponent form", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": 15e-1, "unitPrice": 1 } ] }""", "items[0].quantity", "must be a whole number from 1 to 10,000" },
        { "a whole number too large in exponent form", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": 1e10, "unitPrice": 1 } ] }""", "items[0].quantity", "must be a whole number from 1 to 10,000" },
        { "true for a number", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": true, "unitPrice": 1 } ] }""", "items[0].quantity", "must be a whole number from 1 to 10,000" },
        { "a number for an array", "", """{ "customerId": "c", "currency": "EUR", "items": 5 }""", "items", "must be an array" },
        { "a number for an object", "", """{ "customerId": "c", "currency": "EUR", "items": [ 5 ] }""", "items[0]", "must be an object" },
        { "a duplicate key", "", """{ "customerId": "c", "customerId": "d", "currency": "EUR", "items": [ { "sku": "s", "quantity": 1, "unitPrice": 1 } ] }""", "customerId", "appears more than once" },
        { "a duplicate key in other case", "", """{ "customerId": "c", "CustomerId": "d", "currency": "EUR", "items": [ { "sku": "s", "quantity": 1, "unitPrice": 1 } ] }""", "CustomerId", "appears more than once" },
        { "a duplicate key in an item", "", """{ "customerId": "c", "currency": "EUR", "items": [ { "sku": "s", "quantity": 1, "quantity": 2, "unitPrice": 1 } ] }""", "items[0].quantity", "appears more than once" },
        { "a number for a time", "", """{ "customerId": "c", "currency": "EUR", "items": [], "occurredAt": 12345 }""", "occurredAt", "ISO 8601" },
        { "a time whose UTC is before year 1", "", """{ "customerId": "c", "currency": "EUR", "items": [], "occurredAt": "0001-01-01T00:00:00+14:00" }""", "occurredAt", "ISO 8601" },
        { "payment: no body", "payments", "", "$", "must be a JSON object" },
        { "payment: null body", "payments", "null", "$", "must be a JSON object" },
        { "payment: a string for the amount", "payments", """{ "paymentId": "p", "amount": "21.00", "method": "card" }""", "amount", "must be a JSON number" },
        { "payment: true for the method", "payments", """{ "paymentId": "p", "amount": 21, "method": true }""", "method", "must be a string" },
        { "payment: a duplicate amount", "payments", """{ "paymentId": "p", "amount": 21, "amount": 0, "method": "card" }""", "amount", "appears more than once" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task A_malformed_body_is_a_plain_400_naming_the_JSON_path(string name, string route, string body, string path, string message)
    {
        Assert.NotEmpty(name);
        var id = route == "" ? null : await host.OrderInStatusAsync("placed");

        using var response = await host.Writer.PostAsync(id is null ? "/api/orders" : $"/api/orders/{id}/{route}", body);

        await AssertPlainValidationProblemAsync(response, path);
        Assert.Contains(message, (await ErrorsAsync(response))[path][0], StringComparison.Ordinal);
        if (id is not null)
        {
            await host.AssertNothingWrittenAsync(id, 1);
        }
    }

    [Fact]
    public async Task A_body_nested_too_deeply_is_a_plain_400_saying_so()
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id).ToJsonString()[..^1] + ", \"note\": " + new string('[', 100) + new string(']', 100) + " }";

        using var response = await host.Writer.PostAsync("/api/orders", body);

        await AssertPlainValidationProblemAsync(response);
        var messages = (await ErrorsAsync(response)).Values.SelectMany(m => m);
        Assert.Contains(messages, m => m.Contains("nesting deeper than 64 levels", StringComparison.Ordinal));
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task Unknown_fields_stay_ignored_even_repeated_inside_them()
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        body["note"] = new JsonObject { ["a"] = 1 };
        body["items"]![0]!["colour"] = "blue";

        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());

        await response.AssertJsonAsync(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00%2B14:00")]
    [InlineData("0001-01-01T00:00:00+14:00")] // '+' arrives as a space
    [InlineData("0001-01-01T00:00:00-14:00")]
    [InlineData("1600-12-31T23:59:59Z")]
    [InlineData("9999-12-31T23:59:59Z")]
    [InlineData("2026-11-25T10:00:00\u0085")]
    public async Task An_asOf_outside_the_time_range_is_400_not_a_wrong_answer(string asOf)
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await host.Reader.GetAsync($"/api/orders/{id}?asOf={asOf}");

        await AssertPlainValidationProblemAsync(response, "asOf");
        Assert.Contains("1601-01-01T00:00:00Z", (await ErrorsAsync(response))["asOf"][0], StringComparison.Ordinal);
    }

    /// <summary>A whole number took trailing NUL characters ("1%00" read as 1), and a duration white space around it.</summary>
    [Theory]
    [InlineData("/api/orders/{id}?version=1%00", "version")]
    [InlineData("/api/orders/{id}/events?fromVersion=1%00%00", "fromVersion")]
    [InlineData("/api/orders/{id}/events?limit=1%00", "limit")]
    [InlineData("/api/stats/stuck?status=placed&limit=1%00", "limit")]
    [InlineData("/api/alerts?limit=1%00", "limit")]
    [InlineData("/api/stats/stuck?status=placed&olderThan=%20PT1S", "olderThan")]
    [InlineData("/api/stats/stuck?status=placed&olderThan=PT1S%0A", "olderThan")]
    [InlineData("/api/stats/stuck?status=placed&olderThan=%09PT1S", "olderThan")]
    public async Task A_query_number_or_duration_with_anything_beside_it_is_400(string path, string field)
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await host.Reader.GetAsync(path.Replace("{id}", id, StringComparison.Ordinal));

        await AssertPlainValidationProblemAsync(response, field);
    }

    [Fact]
    public async Task An_asOf_with_an_offset_is_converted_to_UTC()
    {
        var placedAt = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var id = TestOrders.NewId();
        await host.PlaceAsync(id, placedAt);

        // 13:59:59+02:00 is 11:59:59Z, before the placement; 14:00:00+02:00 is the placement itself.
        using var before = await host.Reader.GetAsync($"/api/orders/{id}?asOf=2025-06-01T13:59:59%2B02:00");
        await before.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        var at = await host.GetOrderAsync(id, "?asOf=2025-06-01T14:00:00+02:00");
        Assert.Equal(1, at.Int("version"));
    }

    private static async Task<Dictionary<string, string[]>> ErrorsAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.BodyAsync());
        return document.RootElement.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }
}
