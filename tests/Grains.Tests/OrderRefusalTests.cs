using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>Every refused command gets the right error code and writes nothing: checked in the table itself.</summary>
public sealed class OrderRefusalTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    public static TheoryData<OrderStatus, string> IllegalTransitions() => new()
    {
        { OrderStatus.Placed, "ship,deliver,refund" },
        { OrderStatus.Paid, "pay,deliver,refund" },
        { OrderStatus.Shipped, "pay,ship,cancel,refund" },
        { OrderStatus.Delivered, "pay,ship,deliver,cancel" },
        { OrderStatus.Cancelled, "pay,ship,deliver,cancel,refund" },
        { OrderStatus.Refunded, "pay,ship,deliver,cancel,refund" },
    };

    [Theory]
    [MemberData(nameof(IllegalTransitions))]
    public async Task CommandsTheStatusDoesNotAllowAreRefusedAndWriteNothing(OrderStatus status, string refused)
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var view = await BringTo(grain, id, status);
        Assert.Equal(status, view.Status);

        foreach (var name in refused.Split(','))
        {
            OrderCommand command = name switch
            {
                "pay" => Pay("pay-other"),
                "ship" => Ship(),
                "deliver" => Deliver(),
                "cancel" => Cancel(),
                "refund" => Refund("refund-other", 1m),
                _ => throw new ArgumentException(name),
            };

            await AssertRefused(id, command, CommandErrorCode.InvalidTransition);
        }

        SameView(view, await grain.Get());
    }

    [Fact]
    public async Task CommandsOnAnUnknownOrderAreNotFound()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        foreach (var command in new OrderCommand[] { Pay(), Ship(), Deliver(), Cancel(), Refund("refund-1", 1m) })
        {
            await AssertRefused(id, command, CommandErrorCode.NotFound);
        }

        Assert.Empty(await cluster.RowsAsync(id, ct));
        Assert.Null(await cluster.Grain(id).Get());
    }

    [Fact]
    public async Task PlacingAnExistingOrderIsAlreadyExistsOnAWarmAndOnAFreshActivation()
    {
        var id = NewOrderId();
        var placed = await cluster.Grain(id).Succeeds(Place(id));

        // Warm: the grain knows the order.
        await AssertRefused(id, Place(id), CommandErrorCode.AlreadyExists);

        // Fresh activation: it assumes a new order, the insert collides, it reloads and re-decides.
        await cluster.DeactivateAsync(id);
        await AssertRefused(id, Place(id), CommandErrorCode.AlreadyExists);
        await AssertRefused(id, new PlaceOrder(id, "someone-else", "USD", [new("sku-z", 1, 1m)]), CommandErrorCode.AlreadyExists);

        SameView(placed, await cluster.Grain(id).Get());
    }

    [Fact]
    public async Task PaymentThatIsNotTheTotalIsUnprocessable()
    {
        var id = NewOrderId();
        await cluster.Grain(id).Succeeds(Place(id));

        await AssertRefused(id, Pay(amount: Total - 0.01m), CommandErrorCode.Unprocessable);
        await AssertRefused(id, Pay(amount: Total + 1m), CommandErrorCode.Unprocessable);
        await AssertRefused(id, Pay(amount: 0m), CommandErrorCode.Unprocessable);
    }

    [Fact]
    public async Task RefundBeyondWhatIsLeftIsUnprocessable()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay(), Ship(), Deliver());

        await AssertRefused(id, Refund("refund-1", Total + 0.01m), CommandErrorCode.Unprocessable);
        await grain.Succeeds(Refund("refund-1", 10m));
        await AssertRefused(id, Refund("refund-2", Total - 10m + 0.01m), CommandErrorCode.Unprocessable);
        var refunded = await grain.Succeeds(Refund("refund-2", Total - 10m));
        Assert.Equal(OrderStatus.Refunded, refunded.Status);
    }

    [Fact]
    public async Task RepeatedPaymentOrRefundIdWithAnotherAmountIsUnprocessable()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay("pay-1"), Ship(), Deliver(), Refund("refund-1", 5m));

        await AssertRefused(id, Pay("pay-1", Total + 1m), CommandErrorCode.Unprocessable);
        await AssertRefused(id, Refund("refund-1", 6m), CommandErrorCode.Unprocessable);
    }

    [Fact]
    public async Task SameIdempotencyKeyWithAnotherCommandIsUnprocessable()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.Succeeds(Place(id), new CommandMetadata(IdempotencyKey: "key-place"));
        await grain.Succeeds(Pay(), new CommandMetadata(IdempotencyKey: "key-pay"));

        await AssertRefused(id, Ship(), CommandErrorCode.Unprocessable, new CommandMetadata(IdempotencyKey: "key-pay"));
        await AssertRefused(id, Pay("pay-2"), CommandErrorCode.Unprocessable, new CommandMetadata(IdempotencyKey: "key-pay"));
        await AssertRefused(id, new PlaceOrder(id, "customer-2", "EUR", Items), CommandErrorCode.Unprocessable, new CommandMetadata(IdempotencyKey: "key-place"));

        // And on a fresh activation, where the placement goes through the conflict path first.
        await cluster.DeactivateAsync(id);
        await AssertRefused(id, new PlaceOrder(id, "customer-2", "EUR", Items), CommandErrorCode.Unprocessable, new CommandMetadata(IdempotencyKey: "key-place"));
        await cluster.DeactivateAsync(id);
        await AssertRefused(id, Ship(), CommandErrorCode.Unprocessable, new CommandMetadata(IdempotencyKey: "key-pay"));
    }

    [Fact]
    public async Task InvalidPlacementNamesEveryBadField()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var command = new PlaceOrder(
            id,
            "",
            "eur",
            [
                new("sku-a", 0, 1m),
                new("bad sku!", 1, 1.234m),
                new(null, null, null),
                new("sku-d", 10_001, -1m),
            ]);

        await AssertRefused(
            id,
            command,
            CommandErrorCode.Validation,
            fields: ["customerId", "currency", "items[0].quantity", "items[1].sku", "items[1].unitPrice", "items[2].sku", "items[2].quantity", "items[2].unitPrice", "items[3].quantity", "items[3].unitPrice"]);
        await AssertRefused(id, new PlaceOrder(id, "customer-1", "EUR", []), CommandErrorCode.Validation, fields: ["items"]);
        await AssertRefused(id, new PlaceOrder(id, "customer-1", null, null), CommandErrorCode.Validation, fields: ["currency", "items"]);
        await AssertRefused(id, new PlaceOrder(id, "customer-1", "EUR", [.. Enumerable.Repeat(new OrderLineRequest("sku", 1, 1m), 101)]), CommandErrorCode.Validation, fields: ["items"]);
        await AssertRefused(id, Place("another-order"), CommandErrorCode.Validation, fields: ["orderId"]);
        await AssertRefused(id, Place("bad/id"), CommandErrorCode.Validation, fields: ["orderId"]);

        Assert.Empty(await cluster.RowsAsync(id, ct));
        Assert.Null(await cluster.Grain(id).Get());
    }

    [Fact]
    public async Task InvalidFieldsOfLaterCommandsAreNamed()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.Succeeds(Place(id));
        var tooLong = new string('x', 201);

        await AssertRefused(id, new PayOrder(null, -1m, " "), CommandErrorCode.Validation, fields: ["paymentId", "amount", "method"]);
        await AssertRefused(id, new PayOrder("pay 1", 24.251m, tooLong), CommandErrorCode.Validation, fields: ["paymentId", "amount", "method"]);
        await AssertRefused(id, new CancelOrder(tooLong), CommandErrorCode.Validation, fields: ["reason"]);

        await grain.SucceedAll(Pay(), new ShipOrder("dhl", "t-1"));
        await AssertRefused(id, new DeliverOrder(DateTimeOffset.UtcNow.AddMinutes(1)), CommandErrorCode.Validation, fields: ["occurredAt"]);
        await grain.Succeeds(Deliver());
        await AssertRefused(id, new RefundOrder("", 0m, null), CommandErrorCode.Validation, fields: ["refundId", "amount", "reason"]);
        await AssertRefused(id, new RefundOrder("refund/1", -5m, tooLong), CommandErrorCode.Validation, fields: ["refundId", "amount", "reason"]);
    }

    [Fact]
    public async Task ShipmentWithoutCarrierIsInvalid()
    {
        var id = NewOrderId();
        await cluster.Grain(id).SucceedAll(Place(id), Pay());

        await AssertRefused(id, new ShipOrder(null, ""), CommandErrorCode.Validation, fields: ["carrier", "trackingNumber"]);
    }

    [Fact]
    public async Task EventTimeInTheFutureIsInvalid()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();

        await AssertRefused(id, Place(id, DateTimeOffset.UtcNow.AddSeconds(30)), CommandErrorCode.Validation, fields: ["occurredAt"]);
        Assert.Empty(await cluster.RowsAsync(id, ct));

        await cluster.Grain(id).Succeeds(Place(id));
        await AssertRefused(id, Pay(at: DateTimeOffset.UtcNow.AddSeconds(15)), CommandErrorCode.Validation, fields: ["occurredAt"]);
        await AssertRefused(id, Cancel(DateTimeOffset.UtcNow.AddDays(1)), CommandErrorCode.Validation, fields: ["occurredAt"]);
    }

    [Fact]
    public async Task EventTimeWithinTheAllowedClockSkewIsAccepted()
    {
        var id = NewOrderId();
        var at = DateTimeOffset.UtcNow.AddSeconds(2);
        var placed = await cluster.Grain(id).Succeeds(Place(id, at));
        Assert.Equal(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMillisecond), placed.PlacedAt.UtcTicks);
    }

    [Fact]
    public async Task EventTimeBeforeThePreviousEventIsInvalid()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var t0 = Ago(TimeSpan.FromHours(1));
        await grain.Succeeds(Place(id, t0));

        await AssertRefused(id, Pay(at: t0.AddMilliseconds(-1)), CommandErrorCode.Validation, fields: ["occurredAt"]);
        await AssertRefused(id, Cancel(t0.AddDays(-1)), CommandErrorCode.Validation, fields: ["occurredAt"]);

        // The same instant as the previous event is allowed.
        await grain.Succeeds(Pay(at: t0));
        await AssertRefused(id, Ship(t0.AddMinutes(-1)), CommandErrorCode.Validation, fields: ["occurredAt"]);

        // And the rule holds against the stored log, not only the warm activation.
        await cluster.DeactivateAsync(id);
        await AssertRefused(id, Ship(t0.AddMinutes(-1)), CommandErrorCode.Validation, fields: ["occurredAt"]);
    }

    /// <summary>
    /// A command sent without occurredAt cannot be at fault for its event time: right after an event
    /// that lies (legitimately, within the 5 s skew) slightly ahead of the server's clock, "now" is
    /// before it, and the command must still be accepted, with an event time not before the previous.
    /// </summary>
    [Fact]
    public async Task ACommandWithoutEventTimeIsNotRefusedForAnEventTimeItDidNotSend()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var placed = await grain.Succeeds(Place(id, DateTimeOffset.UtcNow.AddSeconds(4)));

        var result = await grain.Execute(Pay(), CommandMetadata.None);

        Assert.True(result.Error is null, $"refused: {result.Error?.Code} {string.Join("; ", result.Error?.Errors?.Select(e => e.Key + ": " + string.Join(", ", e.Value)) ?? [])}");
        Assert.True(result.Order!.UpdatedAt >= placed.UpdatedAt);
    }

    private static Task<OrderView> BringTo(IOrderGrain grain, string id, OrderStatus status) => status switch
    {
        OrderStatus.Placed => grain.SucceedAll(Place(id)),
        OrderStatus.Paid => grain.SucceedAll(Place(id), Pay()),
        OrderStatus.Shipped => grain.SucceedAll(Place(id), Pay(), Ship()),
        OrderStatus.Delivered => grain.SucceedAll(Place(id), Pay(), Ship(), Deliver()),
        OrderStatus.Cancelled => grain.SucceedAll(Place(id), Cancel()),
        OrderStatus.Refunded => grain.SucceedAll(Place(id), Pay(), Ship(), Deliver(), Refund("refund-all", Total)),
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>
    /// Sends the command and asserts the refusal (and, for validation, exactly which fields), then
    /// that the order's partition is row for row what it was before, and the grain's view too.
    /// </summary>
    private async Task AssertRefused(string id, OrderCommand command, CommandErrorCode code, CommandMetadata? metadata = null, string[]? fields = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var grain = cluster.Grain(id);
        var rowsBefore = await cluster.RowFingerprintAsync(id, ct);
        var eventsBefore = (await cluster.EventsAsync(id, ct)).Count;

        var result = await grain.Execute(command, metadata ?? CommandMetadata.None);

        var error = Assert.IsType<CommandError>(result.Error);
        Assert.True(code == error.Code, $"{command}: expected {code}, got {error.Code} ({error.Detail})");
        Assert.Null(result.Order);
        Assert.False(result.Replayed);
        Assert.False(string.IsNullOrWhiteSpace(error.Detail));
        if (fields is not null)
        {
            var errors = error.Errors;
            Assert.NotNull(errors);
            Assert.Equal(fields.Order(StringComparer.Ordinal), errors.Keys.Order(StringComparer.Ordinal));
            Assert.All(errors.Values, messages => Assert.NotEmpty(messages));
        }

        Assert.Equal(rowsBefore, await cluster.RowFingerprintAsync(id, ct));
        Assert.Equal(eventsBefore, (await cluster.EventsAsync(id, ct)).Count);
        var view = await grain.Get();
        Assert.Equal(eventsBefore, view?.Version ?? 0);
    }
}
