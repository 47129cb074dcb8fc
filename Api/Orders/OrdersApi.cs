using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Json;
using OrderFlow.Api.Operations;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Api.Orders;

/// <summary>API.md "Orders (commands)" and "Orders (queries)".</summary>
public static class OrdersApi
{
    /// <summary>OpenAPI text of the order id in a path.</summary>
    public const string OrderIdDescription = "The order's id: 1–64 characters of letters, digits, '-', '_' or '.', and not only dots.";

    private const string CommandInputRule =
        "the id is not an identifier; the body is absent, not valid JSON for this command, or breaks one of its rules (API.md \"Input rules\"); "
        + "occurredAt is before the order's previous event; or an Idempotency-Key, X-Correlation-Id or X-Causation-Id header is malformed";

    private const string ReusedKey = "an Idempotency-Key already used for a different request on this order (/problems/unprocessable)";

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder endpoints)
    {
        var commands = endpoints.MapCommandGroup("/api/orders", "Orders (commands)", ApiPolicies.Write, "the writer or admin role",
            "Placing an order without orderId, the key also fixes the new order's id.");
        commands.MapPost("/", PlaceOrder).WithName("PlaceOrder").WithSummary("Place an order")
            .WithDescription("Without orderId in the body the order gets a new id (derived from the Idempotency-Key when one is sent). "
                + "The event time is occurredAt, or now when absent.")
            .ReadsBody("The order: customerId, currency and items (sku, quantity, unitPrice); orderId, occurredAt (the event time, now when absent) "
                + "and shippingAddress (recipient, line1, line2?, city, postalCode, country: ISO 3166-1 alpha-2) are optional. Rules: API.md \"Input rules\".")
            .Returns<OrderView>(StatusCodes.Status201Created, "The order as placed, with its shippingAddress (null when none was given, or withheld from a caller that may not read: header Personal-Data-Withheld); Location names it.")
            .AnswersInvalid("the body is absent, not valid JSON for PlaceOrder, or breaks one of its rules (API.md \"Input rules\": ids, lines, quantities, prices, currency, "
                + "the shipping address's fields and country code); "
                + "or an Idempotency-Key, X-Correlation-Id or X-Causation-Id header is malformed")
            .Answers(StatusCodes.Status409Conflict, "An order with this id exists (/problems/already-exists), or other writers kept winning the race (/problems/concurrency-conflict): retry.")
            .Answers(StatusCodes.Status422UnprocessableEntity, "The request cannot be applied: " + ReusedKey + ".");
        MapCommand<PayOrder>(commands, "/{id}/payments", "PayOrder", "Pay an order in full",
            "an amount that is not the order's total, a paymentId already recorded with another amount, or " + ReusedKey);
        MapCommand<ShipOrder>(commands, "/{id}/shipment", "ShipOrder", "Ship a paid order", ReusedKey);
        MapCommand<DeliverOrder>(commands, "/{id}/delivery", "DeliverOrder", "Record delivery of a shipped order (the body is optional)", ReusedKey,
            whenBodyIsAbsent: new DeliverOrder());
        MapCommand<CancelOrder>(commands, "/{id}/cancellation", "CancelOrder", "Cancel a placed or paid order (a paid order is refunded in full)", ReusedKey);
        MapCommand<RefundOrder>(commands, "/{id}/refunds", "RefundOrder", "Refund part or all of a delivered order",
            "a refund over what is left to refund, a refundId already recorded with another amount, or " + ReusedKey);

        var queries = endpoints.MapGroup("/api/orders").WithTags("Orders (queries)").RequireAuthorization(ApiPolicies.Read)
            .AnswersUnauthorized("the reader or admin role").AnswersUnavailableQuery();
        queries.MapGet("/{id}", GetOrder).WithName("GetOrder")
            .WithSummary("The order now, as of an event time (?asOf=), or at a version (?version=)")
            .Returns<OrderView>(StatusCodes.Status200OK, "The order, replayed from its events up to the time or version asked for, with its shippingAddress (null when it was placed without one).")
            .AnswersInvalid("the id is not an identifier, asOf is not a time, version is not a whole number of at least 1, or both asOf and version are given")
            .Answers(StatusCodes.Status404NotFound, "No order with this id, or none yet at asOf, or no such version (/problems/not-found).");
        queries.MapGet("/{id}/events", GetEvents).WithName("GetOrderEvents").WithSummary("The order's events in version order, paged")
            .Returns<EventPageResponse>(StatusCodes.Status200OK, "A page of events; next is the URL of the following page, null on the last.")
            .AnswersInvalid("the id is not an identifier, " + EventPageResponse.PagingRule)
            .Answers(StatusCodes.Status404NotFound, "No order with this id (/problems/not-found).");
        return endpoints;
    }

    private static void MapCommand<TCommand>(RouteGroupBuilder group, string pattern, string name, string summary, string unprocessable, TCommand? whenBodyIsAbsent = null)
        where TCommand : OrderCommand =>
        group.MapPost(pattern, (
                    [Description(OrderIdDescription)] string id,
                    [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] TCommand? body,
                    HttpContext http,
                    IGrainFactory grains) =>
                (body ?? whenBodyIsAbsent) is { } command ? Execute(id, command, http, grains) : Task.FromResult<IResult>(Problems.MissingBody()))
            .WithName(name).WithSummary(summary)
            .ReadsBody($"The {typeof(TCommand).Name} command (schema {typeof(TCommand).Name}); occurredAt, the event time, is optional (now when absent)."
                + (whenBodyIsAbsent is null ? "" : " The body may be left out."))
            .Returns<OrderView>(StatusCodes.Status200OK, "The order after the command (its shippingAddress withheld from a caller that may not read: header Personal-Data-Withheld).")
            .AnswersInvalid(CommandInputRule)
            .Answers(StatusCodes.Status404NotFound, "No order with this id (/problems/not-found).")
            .Answers(StatusCodes.Status409Conflict,
                "The order's status does not allow this command (/problems/invalid-transition), or other writers kept winning the race (/problems/concurrency-conflict): retry.")
            .Answers(StatusCodes.Status422UnprocessableEntity, "The command cannot be applied to this order (/problems/unprocessable): " + unprocessable + ".");

    private static async Task<IResult> PlaceOrder([FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] PlaceOrder? body, HttpContext http, IGrainFactory grains, TimeProvider clock)
    {
        if (body is null)
        {
            return Problems.MissingBody();
        }

        var (metadata, headerErrors) = OrderRequestContext.Read(http);
        if (metadata is null)
        {
            return Problems.Validation(headerErrors);
        }

        if (body.OrderId is { } requested && !Identifiers.IsValid(requested))
        {
            // No grain to ask without a valid id: the same rules, every field at once, here.
            return Problems.Validation(OrderCommandValidator.Validate(body, clock.GetUtcNow()));
        }

        var orderId = body.OrderId ?? OrderRequestContext.NewOrderId(http, metadata.IdempotencyKey);
        var result = await grains.GetGrain<IOrderGrain>(orderId).Execute(body with { OrderId = orderId }, metadata);
        return await Answer(http, result, order => TypedResults.Created($"/api/orders/{Uri.EscapeDataString(order.OrderId)}", order));
    }

    private static async Task<IResult> Execute(string id, OrderCommand command, HttpContext http, IGrainFactory grains)
    {
        var (metadata, refusal) = OrderRequestContext.ReadCommand(http, id);
        if (metadata is null)
        {
            return refusal!;
        }

        var result = await grains.GetGrain<IOrderGrain>(id).Execute(command, metadata);
        return await Answer(http, result, TypedResults.Ok);
    }

    private static async Task<IResult> Answer(HttpContext http, CommandResult result, Func<OrderView, IResult> success) =>
        OrderRequestContext.Answer(http, result.Error,
            await CommandAnswerPrivacy.ForCallerAsync(http, result.Order, CommandAnswerPrivacy.WithoutPersonalData), result.Replayed, success, "order");

    private static async Task<IResult> GetOrder(
        [Description(OrderIdDescription)] string id,
        [Description("An event time, ISO 8601 (for example 2026-11-25T10:00:00Z): the order as it was then. Not with version.")] string? asOf,
        [Description("A version (1 = as placed): the order after that many events. Not with asOf.")] string? version,
        IGrainFactory grains)
    {
        if (OrderRequestContext.CheckRouteId(id) is { } idErrors)
        {
            return Problems.Validation(idErrors);
        }

        if (asOf is not null && version is not null)
        {
            return Problems.Validation("asOf", "use either asOf or version, not both");
        }

        var grain = grains.GetGrain<IOrderGrain>(id);
        OrderView? order;
        if (asOf is not null)
        {
            if (!UtcDateTimeOffsetConverter.TryParseQuery(asOf, out var time))
            {
                return Problems.Validation("asOf", UtcDateTimeOffsetConverter.Rule);
            }

            order = await grain.GetAsOf(time);
            return order is null ? Problems.NotFound($"Order '{id}' did not exist at {UtcDateTimeOffsetConverter.Format(time)}.") : TypedResults.Ok(order);
        }

        if (version is not null)
        {
            if (!WholeNumbers.TryParse(version, out var number) || number < 1)
            {
                return Problems.Validation("version", "must be a whole number of at least 1");
            }

            order = await grain.GetAtVersion(number);
            return order is null ? Problems.NotFound($"Order '{id}' has no version {number}.") : TypedResults.Ok(order);
        }

        order = await grain.Get();
        return order is null ? Problems.NotFound($"Order '{id}' does not exist.") : TypedResults.Ok(order);
    }

    private static Task<IResult> GetEvents(
        [Description(OrderIdDescription)] string id,
        [Description(EventPageResponse.FromVersionDescription)] string? fromVersion,
        [Description(EventPageResponse.LimitDescription)] string? limit,
        IGrainFactory grains) =>
        EventPageResponse.AnswerAsync(id, fromVersion, limit, (from, size) => grains.GetGrain<IOrderGrain>(id).GetEvents(from, size),
            $"/api/orders/{Uri.EscapeDataString(id)}/events", $"Order '{id}' does not exist.");
}
