using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Orders (commands)": every route and its success and refusal statuses.</summary>
public sealed class OrderCommandTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task Place_with_an_order_id_answers_201_with_Location_and_the_order()
    {
        var id = TestOrders.NewId();
        using var response = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());

        var order = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/orders/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(id, order.Str("orderId"));
        Assert.Equal("cust-42", order.Str("customerId"));
        Assert.Equal("placed", order.Str("status"));
        Assert.Equal("EUR", order.Str("currency"));
        var item = Assert.Single(order.GetProperty("items").EnumerateArray());
        Assert.Equal("sku-1", item.Str("sku"));
        Assert.Equal(2, item.Int("quantity"));
        Assert.Equal(10.50m, item.Dec("unitPrice"));
        Assert.Equal(TestOrders.Total, order.Dec("total"));
        Assert.Equal(0m, order.Dec("paid"));
        Assert.Equal(0m, order.Dec("refunded"));
        Assert.Equal(1, order.Int("version"));
        Assert.Equal(order.GetProperty("placedAt").GetDateTimeOffset(), order.GetProperty("updatedAt").GetDateTimeOffset());
        Assert.EndsWith("Z", order.Str("placedAt"), StringComparison.Ordinal);
        Assert.True(Math.Abs((order.GetProperty("placedAt").GetDateTimeOffset() - DateTimeOffset.UtcNow).TotalSeconds) < 30);

        // The Location is where the order is read.
        using var read = await host.Reader.GetAsync(response.Headers.Location!.OriginalString);
        Assert.Equal(id, (await read.AssertJsonAsync(HttpStatusCode.OK)).Str("orderId"));
    }

    [Fact]
    public async Task Place_without_an_order_id_generates_one()
    {
        using var first = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(null).ToJsonString());
        using var second = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(null).ToJsonString());

        var a = await first.AssertJsonAsync(HttpStatusCode.Created);
        var b = await second.AssertJsonAsync(HttpStatusCode.Created);
        var id = a.Str("orderId");
        Assert.Matches("^[A-Za-z0-9._-]{1,64}$", id);
        Assert.NotEqual(id, b.Str("orderId"));
        Assert.Equal($"/api/orders/{id}", first.Headers.Location?.OriginalString);
        Assert.Equal(1, a.Int("version"));
        Assert.Equal("placed", (await host.GetOrderAsync(id)).Str("status"));
    }

    [Fact]
    public async Task Pay_ship_deliver_answer_200_with_the_order()
    {
        var id = TestOrders.NewId();
        await host.PlaceAsync(id);

        var paid = await host.PayAsync(id);
        Assert.Equal("paid", paid.Str("status"));
        Assert.Equal(TestOrders.Total, paid.Dec("paid"));
        Assert.Equal(2, paid.Int("version"));

        var shipped = await host.ShipAsync(id);
        Assert.Equal("shipped", shipped.Str("status"));
        Assert.Equal(3, shipped.Int("version"));

        var delivered = await host.DeliverAsync(id);
        Assert.Equal("delivered", delivered.Str("status"));
        Assert.Equal(4, delivered.Int("version"));
        Assert.Equal(id, delivered.Str("orderId"));
    }

    [Fact]
    public async Task Delivery_accepts_no_body_at_all()
    {
        var id = await host.OrderInStatusAsync("shipped");

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/delivery", json: null);

        var order = await response.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal("delivered", order.Str("status"));
        Assert.Equal(4, order.Int("version"));
    }

    [Fact]
    public async Task Delivery_with_a_body_records_its_event_time()
    {
        var placedAt = DateTimeOffset.UtcNow.AddHours(-3);
        var id = TestOrders.NewId();
        await host.PlaceAsync(id, placedAt);
        await host.PayAsync(id, placedAt.AddHours(1));
        await host.ShipAsync(id, placedAt.AddHours(2));
        var deliveredAt = placedAt.AddHours(2.5);

        var order = await host.DeliverAsync(id, deliveredAt);

        Assert.Equal("delivered", order.Str("status"));
        Assert.Equal(TestOrders.Time(deliveredAt), TestOrders.Time(order.GetProperty("updatedAt").GetDateTimeOffset()));
        var events = await host.GetAllEventsAsync(id);
        Assert.Equal(TestOrders.Time(deliveredAt), TestOrders.Time(events[3].GetProperty("occurredAt").GetDateTimeOffset()));
    }

    [Fact]
    public async Task Cancellation_of_a_placed_order_answers_200()
    {
        var id = await host.OrderInStatusAsync("placed");

        var order = await host.CommandAsync(id, "cancellation", TestOrders.CancelBody());

        Assert.Equal("cancelled", order.Str("status"));
        Assert.Equal(2, order.Int("version"));
        Assert.Equal(0m, order.Dec("refunded"));
    }

    [Fact]
    public async Task Cancellation_of_a_paid_order_refunds_it_in_full()
    {
        var id = await host.OrderInStatusAsync("paid");

        var order = await host.CommandAsync(id, "cancellation", TestOrders.CancelBody());

        Assert.Equal("cancelled", order.Str("status"));
        Assert.Equal(TestOrders.Total, order.Dec("paid"));
        Assert.Equal(TestOrders.Total, order.Dec("refunded"));
        Assert.Equal(4, order.Int("version"));
        var events = await host.GetAllEventsAsync(id);
        Assert.Equal(["OrderPlaced", "OrderPaid", "OrderCancelled", "OrderRefunded"], events.Select(e => e.Str("type")));
    }

    [Fact]
    public async Task Refunds_answer_200_partial_then_full()
    {
        var id = await host.OrderInStatusAsync("delivered");

        var partial = await host.RefundAsync(id, 5.25m);
        Assert.Equal("delivered", partial.Str("status"));
        Assert.Equal(5.25m, partial.Dec("refunded"));
        Assert.Equal(5, partial.Int("version"));

        var rest = await host.RefundAsync(id, TestOrders.Total - 5.25m);
        Assert.Equal("refunded", rest.Str("status"));
        Assert.Equal(TestOrders.Total, rest.Dec("refunded"));
        Assert.Equal(6, rest.Int("version"));
    }

    public static TheoryData<string> Commands => ["payments", "shipment", "delivery", "cancellation", "refunds"];

    private static JsonObject BodyOf(string command) => command switch
    {
        "payments" => TestOrders.PayBody(),
        "shipment" => TestOrders.ShipBody(),
        "delivery" => TestOrders.DeliverBody(),
        "cancellation" => TestOrders.CancelBody(),
        "refunds" => TestOrders.RefundBody(1m),
        _ => throw new ArgumentOutOfRangeException(nameof(command)),
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task A_command_on_an_unknown_order_is_404(string command)
    {
        var id = TestOrders.NewId("missing");

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/{command}", BodyOf(command).ToJsonString());

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task Placing_an_existing_id_is_409_and_changes_nothing()
    {
        var id = TestOrders.NewId();
        await host.PlaceAsync(id);
        var other = TestOrders.PlaceBody(id);
        other["customerId"] = "someone-else";

        using var response = await host.Writer.PostAsync("/api/orders", other.ToJsonString());

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "/problems/already-exists");
        await host.AssertNothingWrittenAsync(id, 1);
        Assert.Equal("cust-42", (await host.GetOrderAsync(id)).Str("customerId"));
    }

    [Theory]
    [InlineData("placed", "shipment")]
    [InlineData("placed", "delivery")]
    [InlineData("placed", "refunds")]
    [InlineData("paid", "payments")]
    [InlineData("paid", "delivery")]
    [InlineData("paid", "refunds")]
    [InlineData("shipped", "payments")]
    [InlineData("shipped", "shipment")]
    [InlineData("shipped", "cancellation")]
    [InlineData("shipped", "refunds")]
    [InlineData("delivered", "delivery")]
    [InlineData("delivered", "cancellation")]
    [InlineData("cancelled", "payments")]
    [InlineData("cancelled", "cancellation")]
    [InlineData("refunded", "refunds")]
    public async Task A_command_the_status_does_not_allow_is_409_and_writes_nothing(string status, string command)
    {
        string id;
        switch (status)
        {
            case "cancelled":
                id = await host.OrderInStatusAsync("placed");
                await host.CommandAsync(id, "cancellation", TestOrders.CancelBody());
                break;
            case "refunded":
                id = await host.OrderInStatusAsync("delivered");
                await host.RefundAsync(id, TestOrders.Total);
                break;
            default:
                id = await host.OrderInStatusAsync(status);
                break;
        }

        var version = (await host.GetOrderAsync(id)).Int("version");

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/{command}", BodyOf(command).ToJsonString());

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "/problems/invalid-transition");
        await host.AssertNothingWrittenAsync(id, version);
        Assert.Equal(status, (await host.GetOrderAsync(id)).Str("status"));
    }

    [Theory]
    [InlineData("20.99")]
    [InlineData("21.01")]
    [InlineData("0")]
    public async Task A_payment_that_is_not_the_total_is_422(string amount)
    {
        var id = await host.OrderInStatusAsync("placed");
        var body = TestOrders.PayBody();
        body["amount"] = JsonNode.Parse(amount);

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/payments", body.ToJsonString());

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        await host.AssertNothingWrittenAsync(id, 1);
    }

    [Fact]
    public async Task A_refund_over_what_is_left_is_422()
    {
        var id = await host.OrderInStatusAsync("delivered");
        await host.RefundAsync(id, 20m);

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/refunds", TestOrders.RefundBody(1.01m).ToJsonString());

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        await host.AssertNothingWrittenAsync(id, 5);

        // What is left can still be refunded.
        var order = await host.RefundAsync(id, 1m);
        Assert.Equal("refunded", order.Str("status"));
    }

    [Fact]
    public async Task A_refund_over_the_whole_payment_is_422()
    {
        var id = await host.OrderInStatusAsync("delivered");

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/refunds", TestOrders.RefundBody(TestOrders.Total + 0.01m).ToJsonString());

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        await host.AssertNothingWrittenAsync(id, 4);
    }

    [Fact]
    public async Task Unknown_json_fields_are_ignored()
    {
        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id);
        body["giftWrap"] = true;
        body["notes"] = new JsonObject { ["any"] = new JsonArray(1, 2, 3) };
        body["items"]![0]!["colour"] = "red";

        using var placed = await host.Writer.PostAsync("/api/orders", body.ToJsonString());
        var order = await placed.AssertJsonAsync(HttpStatusCode.Created);
        Assert.False(order.TryGetProperty("giftWrap", out _));

        var pay = TestOrders.PayBody();
        pay["extra"] = "ignored";
        using var paid = await host.Writer.PostAsync($"/api/orders/{id}/payments", pay.ToJsonString());
        Assert.Equal("paid", (await paid.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
    }

    [Theory]
    [InlineData("{\"customerId\": \"c\", ")]
    [InlineData("{\"customerId\": \"c\" \"currency\": \"EUR\"}")]
    [InlineData("not json")]
    [InlineData("[1, 2, 3]")]
    [InlineData("null")]
    [InlineData("{\"orderId\": 42, \"customerId\": \"c\", \"currency\": \"EUR\", \"items\": []}")]
    public async Task Malformed_json_on_place_is_400(string json)
    {
        using var response = await host.Writer.PostAsync("/api/orders", json);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("{\"paymentId\": \"p-1\", \"amount\": 21.00, ")]
    [InlineData("{\"paymentId\": \"p-1\", \"amount\": \"twenty-one\", \"method\": \"card\"}")]
    [InlineData("{\"paymentId\": \"p-1\", \"amount\": 21.00, \"method\": \"card\", \"occurredAt\": \"yesterday\"}")]
    [InlineData("")]
    [InlineData("null")]
    public async Task Malformed_json_on_a_command_is_400_and_writes_nothing(string json)
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/payments", json);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        await host.AssertNothingWrittenAsync(id, 1);
    }

    [Fact]
    public async Task A_command_without_a_body_is_400()
    {
        var id = await host.OrderInStatusAsync("placed");

        using var response = await host.Writer.PostAsync($"/api/orders/{id}/payments", json: null);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        await host.AssertNothingWrittenAsync(id, 1);
    }

    [Fact]
    public async Task The_correlation_id_is_echoed_and_recorded_on_the_events()
    {
        var id = TestOrders.NewId();
        var correlationId = "corr-" + Guid.NewGuid().ToString("N");

        using var response = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString(),
            configure: request => request.Headers.Add("X-Correlation-Id", correlationId));

        await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(correlationId, response.Header("X-Correlation-Id"));
        var placed = Assert.Single(await host.GetAllEventsAsync(id));
        Assert.Equal(correlationId, placed.Str("correlationId"));
    }

    /// <summary>
    /// Also on the answers given before a command reads its headers: a body that cannot be read
    /// (400) and one over the limit (413) lacked it (found by a read-only review).
    /// </summary>
    [Fact]
    public async Task The_correlation_id_is_echoed_on_answers_given_before_the_command_reads_it()
    {
        var correlationId = "corr-" + Guid.NewGuid().ToString("N");
        void Correlate(HttpRequestMessage request) => request.Headers.Add("X-Correlation-Id", correlationId);

        using var unreadable = await host.Writer.PostAsync("/api/orders", "{\"customerId\":", configure: Correlate);
        await unreadable.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(correlationId, unreadable.Header("X-Correlation-Id"));

        using var tooLarge = await host.Writer.PostAsync("/api/orders", "\"" + new string('x', 70_000) + "\"", configure: Correlate);
        await tooLarge.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(correlationId, tooLarge.Header("X-Correlation-Id"));
    }

    [Fact]
    public async Task A_body_over_64_KiB_with_Content_Length_is_413()
    {
        var id = TestOrders.NewId();
        var body = OversizedPlaceBody(id);

        using var response = await host.Writer.PostAsync("/api/orders", body);

        Assert.True(response.RequestMessage!.Content!.Headers.ContentLength > 64 * 1024);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await host.AssertNothingWrittenAsync(id, 0);
    }

    /// <remarks>
    /// Chunks of 8 KiB happen to line up with the server's 8 KiB reads; 5,000-byte chunks read one at
    /// a time do not, which is how real clients stream.
    /// </remarks>
    [Theory]
    [InlineData(8192, 0)]
    [InlineData(5000, 5)]
    public async Task A_chunked_body_over_64_KiB_is_413(int chunkSize, int pauseMilliseconds)
    {
        var id = TestOrders.NewId();
        var body = OversizedPlaceBody(id);

        using var response = await host.Writer.SendAsync(HttpMethod.Post, "/api/orders",
            new ChunkedJsonContent(body, chunkSize, TimeSpan.FromMilliseconds(pauseMilliseconds)));

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Fact]
    public async Task A_body_of_exactly_64_KiB_is_accepted()
    {
        var id = TestOrders.NewId();
        var json = TestOrders.PlaceBody(id).ToJsonString();
        var body = json + new string(' ', 64 * 1024 - System.Text.Encoding.UTF8.GetByteCount(json));
        Assert.Equal(64 * 1024, System.Text.Encoding.UTF8.GetByteCount(body));

        using var chunked = await host.Writer.SendAsync(HttpMethod.Post, "/api/orders", new ChunkedJsonContent(body));
        await chunked.AssertJsonAsync(HttpStatusCode.Created);

        var other = TestOrders.NewId();
        var json2 = TestOrders.PlaceBody(other).ToJsonString();
        using var withLength = await host.Writer.PostAsync("/api/orders", json2 + new string(' ', 64 * 1024 - System.Text.Encoding.UTF8.GetByteCount(json2)));
        await withLength.AssertJsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        using var response = await host.Admin.GetAsync("/api/no-such-thing");

        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_wrong_method_is_a_405_problem()
    {
        using var response = await host.Admin.SendAsync(HttpMethod.Delete, $"/api/orders/{TestOrders.NewId()}", content: null);

        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_a_415_problem_and_writes_nothing()
    {
        var id = TestOrders.NewId();

        using var response = await host.Writer.SendAsync(HttpMethod.Post, "/api/orders",
            new StringContent(TestOrders.PlaceBody(id).ToJsonString(), System.Text.Encoding.UTF8, "text/plain"));

        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await host.AssertNothingWrittenAsync(id, 0);
    }

    /// <summary>A charset the framework's JSON reader does not know made it throw: a 500.</summary>
    [Theory]
    [InlineData("application/json; charset=bogus")]
    [InlineData("application/json; charset=")]
    [InlineData("application/json; charset=windows-1252")]
    [InlineData("application/json; charset=utf-16")]
    public async Task A_body_in_a_charset_other_than_UTF8_is_a_415_problem_and_writes_nothing(string contentType)
    {
        var id = TestOrders.NewId();

        using var response = await PlaceWithContentTypeAsync(id, contentType);

        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "/problems/unsupported-media-type");
        await host.AssertNothingWrittenAsync(id, 0);
    }

    [Theory]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=UTF-8")]
    public async Task A_body_declared_UTF8_however_written_is_accepted(string contentType)
    {
        var id = TestOrders.NewId();

        using var response = await PlaceWithContentTypeAsync(id, contentType);

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>A placement whose Content-Type is sent as written.</summary>
    private Task<HttpResponseMessage> PlaceWithContentTypeAsync(string id, string contentType) =>
        host.Writer.SendAsync(HttpMethod.Post, "/api/orders", DeclaredContent.Json(TestOrders.PlaceBody(id).ToJsonString(), contentType));

    private static string OversizedPlaceBody(string id)
    {
        var body = TestOrders.PlaceBody(id);
        body["padding"] = new string('x', 70 * 1024);
        var json = body.ToJsonString();
        Assert.True(json.Length > 64 * 1024);
        return json;
    }
}
