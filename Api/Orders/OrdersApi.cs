using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Json;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Api.Orders;

/// <summary>API.md "Orders (commands)" and "Orders (queries)".</summary>
public static class OrdersApi
{
    public const int DefaultEventPageSize = 100;
    public const int MaxEventPageSize = 1000;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder endpoints)
    {
        var commands = endpoints.MapGroup("/api/orders").WithTags("Orders (commands)").RequireAuthorization(ApiPolicies.Write);
        commands.MapPost("/", PlaceOrder).WithName("PlaceOrder").WithSummary("Place an order")
            .Produces<OrderView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        MapCommand<PayOrder>(commands, "/{id}/payments", "PayOrder", "Pay an order in full");
        MapCommand<ShipOrder>(commands, "/{id}/shipment", "ShipOrder", "Ship a paid order");
        commands.MapPost("/{id}/delivery",
                (string id, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] DeliverOrder? body, HttpContext http, IGrainFactory grains) =>
                    Execute(id, body ?? new DeliverOrder(), http, grains))
            .WithName("DeliverOrder").WithSummary("Record delivery of a shipped order (the body is optional)");
        MapCommand<CancelOrder>(commands, "/{id}/cancellation", "CancelOrder", "Cancel a placed or paid order (a paid order is refunded in full)");
        MapCommand<RefundOrder>(commands, "/{id}/refunds", "RefundOrder", "Refund part or all of a delivered order");

        var queries = endpoints.MapGroup("/api/orders").WithTags("Orders (queries)").RequireAuthorization(ApiPolicies.Read);
        queries.MapGet("/{id}", GetOrder).WithName("GetOrder")
            .WithSummary("The order now, as of an event time (?asOf=), or at a version (?version=)")
            .Produces<OrderView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        queries.MapGet("/{id}/events", GetEvents).WithName("GetOrderEvents").WithSummary("The order's events in version order, paged")
            .Produces<EventPageResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static void MapCommand<TCommand>(RouteGroupBuilder group, string pattern, string name, string summary)
        where TCommand : OrderCommand =>
        group.MapPost(pattern, (string id, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] TCommand? body, HttpContext http, IGrainFactory grains) =>
                body is null ? Task.FromResult(MissingBody()) : Execute(id, body, http, grains))
            .WithName(name).WithSummary(summary)
            .Produces<OrderView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    private static async Task<IResult> PlaceOrder([FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] PlaceOrder? body, HttpContext http, IGrainFactory grains)
    {
        if (body is null)
        {
            return MissingBody();
        }

        var (metadata, headerErrors) = OrderRequestContext.Read(http);
        if (metadata is null)
        {
            return Problems.Validation(headerErrors);
        }

        if (body.OrderId is { } requested && !Identifiers.IsValid(requested))
        {
            return Problems.Validation("orderId", Identifiers.Rule);
        }

        var orderId = body.OrderId ?? OrderRequestContext.NewOrderId(http, metadata.IdempotencyKey);
        var result = await grains.GetGrain<IOrderGrain>(orderId).Execute(body with { OrderId = orderId }, metadata);
        return Answer(http, result, order => TypedResults.Created($"/api/orders/{Uri.EscapeDataString(order.OrderId)}", order));
    }

    /// <summary>An absent body or a JSON null, where the command needs an object (the framework's own answer names .NET types).</summary>
    private static IResult MissingBody() => Problems.Validation("$", "must be a JSON object: the request has no body, or null");

    private static async Task<IResult> Execute(string id, OrderCommand command, HttpContext http, IGrainFactory grains)
    {
        if (OrderRequestContext.CheckOrderId(id) is { } idErrors)
        {
            return Problems.Validation(idErrors);
        }

        var (metadata, headerErrors) = OrderRequestContext.Read(http);
        if (metadata is null)
        {
            return Problems.Validation(headerErrors);
        }

        var result = await grains.GetGrain<IOrderGrain>(id).Execute(command, metadata);
        return Answer(http, result, TypedResults.Ok);
    }

    private static IResult Answer(HttpContext http, CommandResult result, Func<OrderView, IResult> success)
    {
        if (result.Error is { } error)
        {
            return Problems.From(error);
        }

        if (result.Replayed)
        {
            http.Response.Headers[OrderRequestContext.ReplayedHeader] = "true";
        }

        return success(result.Order!);
    }

    private static async Task<IResult> GetOrder(string id, string? asOf, string? version, IGrainFactory grains)
    {
        if (OrderRequestContext.CheckOrderId(id) is { } idErrors)
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
            if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
            {
                return Problems.Validation("version", "must be a whole number of at least 1");
            }

            order = await grain.GetAtVersion(number);
            return order is null ? Problems.NotFound($"Order '{id}' has no version {number}.") : TypedResults.Ok(order);
        }

        order = await grain.Get();
        return order is null ? Problems.NotFound($"Order '{id}' does not exist.") : TypedResults.Ok(order);
    }

    private static async Task<IResult> GetEvents(string id, string? fromVersion, string? limit, IGrainFactory grains)
    {
        var errors = OrderRequestContext.CheckOrderId(id) ?? [];
        var from = 1;
        var size = DefaultEventPageSize;
        if (fromVersion is not null && (!int.TryParse(fromVersion, NumberStyles.None, CultureInfo.InvariantCulture, out from) || from < 1))
        {
            errors["fromVersion"] = ["must be a whole number of at least 1"];
        }

        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxEventPageSize))
        {
            errors["limit"] = [$"must be a whole number from 1 to {MaxEventPageSize}"];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var page = await grains.GetGrain<IOrderGrain>(id).GetEvents(from, size);
        if (page is null)
        {
            return Problems.NotFound($"Order '{id}' does not exist.");
        }

        var next = page.NextFromVersion is { } nextFrom
            ? string.Create(CultureInfo.InvariantCulture, $"/api/orders/{Uri.EscapeDataString(id)}/events?fromVersion={nextFrom}&limit={size}")
            : null;
        return TypedResults.Ok(new EventPageResponse([.. page.Events.Select(EventResponse.From)], next));
    }
}
