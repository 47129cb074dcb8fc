using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Json;
using OrderFlow.Api.Operations;
using OrderFlow.Api.Orders;
using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Grains.Customers;
using OrderFlow.Orders;

namespace OrderFlow.Api.Customers;

/// <summary>API.md "Customers": register, change the profile, erase personal data, read now or as of a time, the event log.</summary>
public static class CustomersApi
{
    /// <summary>OpenAPI text of the customer id in a path.</summary>
    public const string CustomerIdDescription = "The customer's id: 1–64 characters of letters, digits, '-', '_' or '.', and not only dots.";

    private const string Aggregate = "customer";

    private const string HeaderErrors = "or an Idempotency-Key, X-Correlation-Id or X-Causation-Id header is malformed";

    private const string ReusedKey = "an Idempotency-Key already used for a different request on this customer (/problems/unprocessable)";

    private const string NotRegistered = "No customer with this id (/problems/not-found).";

    public static IEndpointRouteBuilder MapCustomersApi(this IEndpointRouteBuilder endpoints)
    {
        var commands = endpoints.MapCommandGroup("/api/customers", "Customers (commands)", ApiPolicies.Write, "the writer or admin role");
        commands.MapPost("/", Register).WithName("RegisterCustomer").WithSummary("Register a customer")
            .WithDescription("The event time is occurredAt, or now when absent. Orders do not wait for customers: an order may name a customer who registers later.")
            .ReadsBody("The customer: customerId, name, email and country (ISO 3166-1 alpha-2); occurredAt (the event time, now when absent) is optional. "
                + "Rules: API.md \"Customers\".")
            .Returns<CustomerView>(StatusCodes.Status201Created, "The customer as registered (name and email withheld from a caller that may not read: header Personal-Data-Withheld); Location names it.")
            .AnswersInvalid("the body is absent, not valid JSON for RegisterCustomer, or breaks one of its rules (API.md \"Customers\": id, name, email, country, occurredAt); "
                + HeaderErrors)
            .Answers(StatusCodes.Status409Conflict,
                "A customer with this id exists (/problems/already-exists), or other writers kept winning the race (/problems/concurrency-conflict): retry.")
            .Answers(StatusCodes.Status422UnprocessableEntity, "The request cannot be applied: " + ReusedKey + ".");
        commands.MapPost("/{id}/profile", ChangeProfile).WithName("ChangeCustomerProfile").WithSummary("Change a customer's name, email or country")
            .ReadsBody("name, email and country, each optional but at least one; a member left out is unchanged. occurredAt, the event time, is optional (now when absent).")
            .Returns<CustomerView>(StatusCodes.Status200OK, "The customer after the change (name and email withheld from a caller that may not read: header Personal-Data-Withheld).")
            .AnswersInvalid("the id is not an identifier; the body is absent, not valid JSON for ChangeCustomerProfile, changes nothing, or breaks one of its rules; "
                + "occurredAt is before the customer's previous event; " + HeaderErrors)
            .Answers(StatusCodes.Status404NotFound, NotRegistered)
            .Answers(StatusCodes.Status409Conflict,
                "The customer's personal data was erased, so it cannot change (/problems/invalid-transition), or other writers kept winning the race (/problems/concurrency-conflict): retry.")
            .Answers(StatusCodes.Status422UnprocessableEntity, "The command cannot be applied to this customer (/problems/unprocessable): " + ReusedKey + ".");

        var erasure = endpoints.MapCommandGroup("/api/customers", "Customers (commands)", ApiPolicies.Admin, "the admin role");
        erasure.MapPost("/{id}/erasure", Erase).WithName("EraseCustomerPersonalData").WithSummary("Erase a customer's personal data (GDPR article 17)")
            .WithDescription("Deletes the customer's key, so that their name and email (and their orders' shipping addresses) read as erased from then on; "
                + "records who asked (the authenticated caller, never a field of the request) and when. Erasing again changes nothing and answers the same. "
                + "Any data subject can be erased, also one who never registered but whom orders name: their customer log then starts with the erasure.")
            .ReadsBody("Optional: occurredAt, the event time (now when absent). The body may be left out.")
            .Returns<CustomerView>(StatusCodes.Status200OK,
                "The customer as erased: name and email null, erased true; country and registeredAt null too for a subject who never registered.")
            .AnswersInvalid("the id is not an identifier; the body is not valid JSON for an erasure; occurredAt is out of range or before the customer's previous event; "
                + HeaderErrors)
            .Answers(StatusCodes.Status409Conflict, "Other writers kept winning the race (/problems/concurrency-conflict): retry.")
            .Answers(StatusCodes.Status422UnprocessableEntity, "The command cannot be applied to this customer (/problems/unprocessable): " + ReusedKey + ".");

        var queries = endpoints.MapGroup("/api/customers").WithTags("Customers (queries)").RequireAuthorization(ApiPolicies.Read)
            .AnswersUnauthorized("the reader or admin role").AnswersUnavailableQuery();
        queries.MapGet("/{id}", GetCustomer).WithName("GetCustomerProfile").WithSummary("The customer now, or as of an event time (?asOf=)")
            .Returns<CustomerView>(StatusCodes.Status200OK,
                "The customer, replayed from their events up to the time asked for; name and email are null once erased. "
                + "A subject erased without registering is erased with country and registeredAt null.")
            .AnswersInvalid("the id is not an identifier, or asOf is not a time")
            .Answers(StatusCodes.Status404NotFound, "No customer with this id, or none yet at asOf (/problems/not-found).");
        queries.MapGet("/{id}/events", GetEvents).WithName("GetCustomerEvents").WithSummary("The customer's events in version order, paged")
            .Returns<EventPageResponse>(StatusCodes.Status200OK, "A page of events; next is the URL of the following page, null on the last.")
            .AnswersInvalid("the id is not an identifier, " + EventPageResponse.PagingRule)
            .Answers(StatusCodes.Status404NotFound, NotRegistered);
        return endpoints;
    }

    private static async Task<IResult> Register(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] RegisterCustomer? body, HttpContext http, IGrainFactory grains, TimeProvider clock)
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

        if (body.CustomerId is not { } customerId || !Identifiers.IsValid(customerId))
        {
            // No grain to ask without an id: the same rules, every field at once, here.
            return Problems.Validation(CustomerCommandValidator.Validate(body, clock.GetUtcNow()));
        }

        var result = await grains.GetGrain<ICustomerGrain>(customerId).Execute(body, metadata);
        return await Answer(http, result, customer => TypedResults.Created(CustomerPath(customer.CustomerId), customer));
    }

    private static Task<IResult> ChangeProfile(
        [Description(CustomerIdDescription)] string id,
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ChangeCustomerProfile? body,
        HttpContext http,
        IGrainFactory grains) =>
        body is null ? Task.FromResult<IResult>(Problems.MissingBody()) : Execute(id, body, http, grains);

    private static Task<IResult> Erase(
        [Description(CustomerIdDescription)] string id,
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ErasureRequest? body,
        HttpContext http,
        IGrainFactory grains) =>
        Execute(id, new ErasePersonalData(CommandRateLimits.CallerOf(http), body?.OccurredAt), http, grains);

    private static async Task<IResult> Execute(string id, CustomerCommand command, HttpContext http, IGrainFactory grains)
    {
        var (metadata, refusal) = OrderRequestContext.ReadCommand(http, id);
        if (metadata is null)
        {
            return refusal!;
        }

        var result = await grains.GetGrain<ICustomerGrain>(id).Execute(command, metadata);
        return await Answer(http, result, TypedResults.Ok);
    }

    private static async Task<IResult> Answer(HttpContext http, CustomerCommandResult result, Func<CustomerView, IResult> success) =>
        OrderRequestContext.Answer(http, result.Error,
            await CommandAnswerPrivacy.ForCallerAsync(http, result.Customer, CommandAnswerPrivacy.WithoutPersonalData), result.Replayed, success, Aggregate);

    private static string CustomerPath(string id) => "/api/customers/" + Uri.EscapeDataString(id);

    private static async Task<IResult> GetCustomer(
        [Description(CustomerIdDescription)] string id,
        [Description("An event time, ISO 8601 (for example 2026-11-25T10:00:00Z): the customer as they were then.")] string? asOf,
        IGrainFactory grains)
    {
        if (OrderRequestContext.CheckRouteId(id) is { } idErrors)
        {
            return Problems.Validation(idErrors);
        }

        var grain = grains.GetGrain<ICustomerGrain>(id);
        if (asOf is null)
        {
            return await grain.Get() is { } customer ? TypedResults.Ok(customer) : Problems.NotFound($"Customer '{id}' does not exist.");
        }

        if (!UtcDateTimeOffsetConverter.TryParseQuery(asOf, out var time))
        {
            return Problems.Validation("asOf", UtcDateTimeOffsetConverter.Rule);
        }

        return await grain.GetAsOf(time) is { } then
            ? TypedResults.Ok(then)
            : Problems.NotFound($"Customer '{id}' did not exist at {UtcDateTimeOffsetConverter.Format(time)}.");
    }

    private static Task<IResult> GetEvents(
        [Description(CustomerIdDescription)] string id,
        [Description(EventPageResponse.FromVersionDescription)] string? fromVersion,
        [Description(EventPageResponse.LimitDescription)] string? limit,
        IGrainFactory grains) =>
        EventPageResponse.AnswerAsync(id, fromVersion, limit, (from, size) => grains.GetGrain<ICustomerGrain>(id).GetEvents(from, size),
            CustomerPath(id) + "/events", $"Customer '{id}' does not exist.");
}
