using System.Net;
using System.Text.Json;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Idempotency": a retried command returns the first answer and writes nothing.</summary>
public sealed class IdempotencyTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Replayed = "Idempotent-Replayed";

    private readonly ApiHost host = fixture.Host;

    private static string NewKey() => "idem-" + Guid.NewGuid().ToString("N");

    private static void AssertSameJson(string first, string second)
    {
        using var a = JsonDocument.Parse(first);
        using var b = JsonDocument.Parse(second);
        Assert.True(JsonElement.DeepEquals(a.RootElement, b.RootElement), $"The replay differs from the first answer.\nfirst:  {first}\nreplay: {second}");
    }

    [Fact]
    public async Task A_placement_retried_with_the_same_key_and_body_returns_the_first_answer()
    {
        var id = TestOrders.NewId();
        var key = NewKey();
        var body = TestOrders.PlaceBody(id).ToJsonString();

        using var first = await host.Writer.PostAsync("/api/orders", body, key);
        var firstBody = await first.BodyAsync();
        using var retry = await host.Writer.PostAsync("/api/orders", body, key);
        var retryBody = await retry.BodyAsync();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains(Replayed));
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Header(Replayed));
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(firstBody, retryBody);
        await host.AssertNothingWrittenAsync(id, 1);
    }

    /// <summary>
    /// API.md: a repeated paymentId is applied once, without an Idempotency-Key; its answer is the
    /// order as it stands now, which may have moved on (a review asked which: now it is written down).
    /// </summary>
    [Fact]
    public async Task A_payment_repeated_after_the_order_moved_on_writes_nothing_and_answers_the_order_as_it_stands()
    {
        var id = TestOrders.NewId();
        await host.PlaceAsync(id);
        var payment = TestOrders.PayBody(paymentId: TestOrders.NewId("pay")).ToJsonString();
        using (var first = await host.Writer.PostAsync($"/api/orders/{id}/payments", payment))
        {
            await first.AssertJsonAsync(HttpStatusCode.OK);
        }

        await host.ShipAsync(id);
        using var repeated = await host.Writer.PostAsync($"/api/orders/{id}/payments", payment);
        var order = await repeated.AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(("shipped", 3), (order.Str("status"), order.GetProperty("version").GetInt32()));
        Assert.Equal("true", repeated.Header(Replayed));
        await host.AssertNothingWrittenAsync(id, 3);
    }

    [Fact]
    public async Task A_placement_without_order_id_retried_with_the_same_key_reaches_the_same_order()
    {
        var key = NewKey();
        var body = TestOrders.PlaceBody(null).ToJsonString();

        using var first = await host.Writer.PostAsync("/api/orders", body, key);
        var order = await first.AssertJsonAsync(HttpStatusCode.Created);
        using var retry = await host.Writer.PostAsync("/api/orders", body, key);
        var again = await retry.AssertJsonAsync(HttpStatusCode.Created);

        Assert.Equal(order.Str("orderId"), again.Str("orderId"));
        Assert.Equal("true", retry.Header(Replayed));
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        AssertSameJson(order.GetRawText(), again.GetRawText());
        await host.AssertNothingWrittenAsync(order.Str("orderId"), 1);

        // Another key is another order.
        using var other = await host.Writer.PostAsync("/api/orders", body, NewKey());
        Assert.NotEqual(order.Str("orderId"), (await other.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId"));
    }

    [Theory]
    [InlineData("payments")]
    [InlineData("shipment")]
    [InlineData("delivery")]
    [InlineData("cancellation")]
    [InlineData("refunds")]
    public async Task A_command_retried_with_the_same_key_and_body_returns_the_first_answer(string command)
    {
        var (status, body) = command switch
        {
            "payments" => ("placed", TestOrders.PayBody()),
            "shipment" => ("paid", TestOrders.ShipBody()),
            "delivery" => ("shipped", TestOrders.DeliverBody()),
            "cancellation" => ("paid", TestOrders.CancelBody()),
            _ => ("delivered", TestOrders.RefundBody(2m)),
        };
        var id = await host.OrderInStatusAsync(status);
        var key = NewKey();

        using var first = await host.Writer.PostAsync($"/api/orders/{id}/{command}", body.ToJsonString(), key);
        var firstBody = await first.BodyAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var version = JsonDocument.Parse(firstBody).RootElement.GetProperty("version").GetInt32();

        using var retry = await host.Writer.PostAsync($"/api/orders/{id}/{command}", body.ToJsonString(), key);
        var retryBody = await retry.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Header(Replayed));
        Assert.Equal(firstBody, retryBody);
        await host.AssertNothingWrittenAsync(id, version);
    }

    [Fact]
    public async Task A_replay_answers_as_the_first_time_even_after_later_commands()
    {
        var id = await host.OrderInStatusAsync("placed");
        var key = NewKey();
        var pay = TestOrders.PayBody().ToJsonString();
        using var first = await host.Writer.PostAsync($"/api/orders/{id}/payments", pay, key);
        var firstBody = await first.BodyAsync();
        await host.ShipAsync(id);

        using var retry = await host.Writer.PostAsync($"/api/orders/{id}/payments", pay, key);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Header(Replayed));
        AssertSameJson(firstBody, await retry.BodyAsync());
        await host.AssertNothingWrittenAsync(id, 3);
    }

    [Fact]
    public async Task The_same_key_with_another_placement_body_is_422()
    {
        var id = TestOrders.NewId();
        var key = NewKey();
        await (await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString(), key)).AssertJsonAsync(HttpStatusCode.Created);
        var other = TestOrders.PlaceBody(id);
        other["customerId"] = "another-customer";

        using var response = await host.Writer.PostAsync("/api/orders", other.ToJsonString(), key);

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        await host.AssertNothingWrittenAsync(id, 1);
        Assert.Equal("cust-42", (await host.GetOrderAsync(id)).Str("customerId"));
    }

    [Fact]
    public async Task The_same_key_with_another_placement_body_without_order_id_is_422()
    {
        var key = NewKey();
        using var first = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(null).ToJsonString(), key);
        var id = (await first.AssertJsonAsync(HttpStatusCode.Created)).Str("orderId");
        var other = TestOrders.PlaceBody(null);
        other["currency"] = "USD";

        using var response = await host.Writer.PostAsync("/api/orders", other.ToJsonString(), key);

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        await host.AssertNothingWrittenAsync(id, 1);
        Assert.Equal("EUR", (await host.GetOrderAsync(id)).Str("currency"));
    }

    [Fact]
    public async Task The_same_key_with_another_command_body_is_422()
    {
        var id = await host.OrderInStatusAsync("delivered");
        var key = NewKey();
        await (await host.Writer.PostAsync($"/api/orders/{id}/refunds", TestOrders.RefundBody(1m, "ref-a").ToJsonString(), key)).AssertJsonAsync(HttpStatusCode.OK);

        using var otherAmount = await host.Writer.PostAsync($"/api/orders/{id}/refunds", TestOrders.RefundBody(2m, "ref-b").ToJsonString(), key);
        await otherAmount.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        using var otherCommand = await host.Writer.PostAsync($"/api/orders/{id}/delivery", "{}", key);
        await otherCommand.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        await host.AssertNothingWrittenAsync(id, 5);
    }

    [Fact]
    public async Task A_repeated_payment_id_is_applied_once()
    {
        var id = await host.OrderInStatusAsync("placed");
        var pay = TestOrders.PayBody(paymentId: "pay-" + Guid.NewGuid().ToString("N")).ToJsonString();

        using var first = await host.Writer.PostAsync($"/api/orders/{id}/payments", pay);
        var order = await first.AssertJsonAsync(HttpStatusCode.OK);
        using var again = await host.Writer.PostAsync($"/api/orders/{id}/payments", pay);
        var repeated = await again.AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal("paid", repeated.Str("status"));
        Assert.Equal(order.Int("version"), repeated.Int("version"));
        Assert.Equal(TestOrders.Total, repeated.Dec("paid"));
        await host.AssertNothingWrittenAsync(id, 2);
    }

    [Fact]
    public async Task A_repeated_refund_id_is_applied_once()
    {
        var id = await host.OrderInStatusAsync("delivered");
        var refund = TestOrders.RefundBody(3m, "ref-" + Guid.NewGuid().ToString("N")).ToJsonString();

        using var first = await host.Writer.PostAsync($"/api/orders/{id}/refunds", refund);
        await first.AssertJsonAsync(HttpStatusCode.OK);
        using var again = await host.Writer.PostAsync($"/api/orders/{id}/refunds", refund);
        var repeated = await again.AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(3m, repeated.Dec("refunded"));
        await host.AssertNothingWrittenAsync(id, 5);
    }

    [Fact]
    public async Task A_refused_command_is_not_remembered_under_its_key()
    {
        var id = await host.OrderInStatusAsync("placed");
        var key = NewKey();
        using var refused = await host.Writer.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody(amount: 1m).ToJsonString(), key);
        await refused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        using var corrected = await host.Writer.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString(), key);

        Assert.Equal("paid", (await corrected.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
        Assert.False(corrected.Headers.Contains(Replayed));
    }

    [Fact]
    public async Task Concurrent_retries_of_one_placement_create_one_order()
    {
        var key = NewKey();
        var body = TestOrders.PlaceBody(null).ToJsonString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => host.Writer.PostAsync("/api/orders", body, key)));
        try
        {
            var orders = new List<JsonElement>();
            foreach (var response in responses)
            {
                orders.Add(await response.AssertJsonAsync(HttpStatusCode.Created));
            }

            var id = Assert.Single(orders.Select(o => o.Str("orderId")).Distinct());
            Assert.Single(responses, r => !r.Headers.Contains(Replayed));
            await host.AssertNothingWrittenAsync(id, 1);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task Concurrent_different_payments_pay_the_order_once()
    {
        var id = await host.OrderInStatusAsync("placed");

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            host.Writer.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString())));
        try
        {
            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
            foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
            {
                await refused.AssertProblemAsync(HttpStatusCode.Conflict);
            }

            await host.AssertNothingWrittenAsync(id, 2);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }
}
