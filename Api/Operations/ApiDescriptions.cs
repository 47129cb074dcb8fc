using System.Globalization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;

namespace OrderFlow.Api.Operations;

/// <summary>
/// How the API describes itself in <c>/openapi/v1.json</c> (and so in Scalar): every answer a route
/// can give, with when it is given, and the headers it reads. The texts follow API.md's error table.
/// </summary>
public static class ApiDescriptions
{
    public const string Title = "OrderFlow API";

    public const string Version = "v1";

    public const string Description =
        "Event-sourced orders and customers on Orleans and Azure Table Storage: commands that append events to each order's (and customer's) log, "
        + "queries of an order now or at any point of its history, statistics projected from the event stream, and the "
        + "administration of those projections. Every request under /api needs an API key in the X-Api-Key header, or, where "
        + "Microsoft Entra ID is configured, an access token as Authorization: Bearer (roles reader, writer, admin; commands are limited "
        + "per caller); every error is an RFC 9457 problem document whose type (/problems/<kind>) names the kind. "
        + "Times are ISO 8601 in UTC, money is an exact decimal in the order's currency, durations are exact decimal seconds.";

    public const string ApiKeyScheme = "ApiKey";

    public const string BearerScheme = "Bearer";

    private static readonly string RetryAfter = ApiExceptionHandler.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);

    /// <summary>A success answer of type <typeparamref name="T"/>, saying what it holds.</summary>
    public static RouteHandlerBuilder Returns<T>(this RouteHandlerBuilder builder, int status, string description) =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(T), ["application/json"]) { Description = description });

    /// <summary>A problem answer (application/problem+json), saying when it is given and with which problem types.</summary>
    public static TBuilder Answers<TBuilder>(this TBuilder builder, int status, string when)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(
            status,
            status == StatusCodes.Status400BadRequest ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails),
            ["application/problem+json"]) { Description = when });

    /// <summary>400 for a request with parameters: <paramref name="what"/> says which inputs are checked.</summary>
    public static TBuilder AnswersInvalid<TBuilder>(this TBuilder builder, string what)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Answers(StatusCodes.Status400BadRequest,
            $"Invalid request (/problems/validation): {what}. The errors member names each offending field with the rule it breaks.");

    /// <summary>401 and 403: the routes need an API key or a bearer token with one of <paramref name="roles"/>.</summary>
    public static TBuilder AnswersUnauthorized<TBuilder>(this TBuilder builder, string roles)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .Answers(StatusCodes.Status401Unauthorized,
                "No credentials, a key that is not configured, or a bearer token that is not valid here (expired, another audience or issuer, a bad signature) "
                + "(/problems/unauthorized); WWW-Authenticate names the schemes accepted.")
            .Answers(StatusCodes.Status403Forbidden, $"The key's or token's role may not do this (/problems/forbidden): it needs {roles}.");

    /// <summary>429: the routes are limited per caller (<c>RateLimiting:Commands</c>).</summary>
    public static TBuilder AnswersTooManyRequests<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Answers(StatusCodes.Status429TooManyRequests,
            "This caller (API key or token subject) sent more commands than its limit allows (/problems/rate-limited); nothing was done. Retry after Retry-After.");

    /// <summary>413 and 415: the routes read a JSON body.</summary>
    public static TBuilder AnswersBodyProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .Answers(StatusCodes.Status413PayloadTooLarge, string.Create(CultureInfo.InvariantCulture,
                $"A body over {RequestBodyLimit.MaxBytes / 1024} KiB (/problems/body-too-large), or a command whose events would exceed a storage limit (/problems/too-large)."))
            .Answers(StatusCodes.Status415UnsupportedMediaType,
                "A body that is not sent as Content-Type: application/json (/problems/unsupported-media-type).");

    /// <summary>503 of a query: nothing was written; retry after Retry-After.</summary>
    public static TBuilder AnswersUnavailableQuery<TBuilder>(this TBuilder builder, string? also = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Answers(StatusCodes.Status503ServiceUnavailable,
            "Storage (/problems/storage-unavailable) or the cluster (/problems/cluster-unavailable) did not answer in time"
            + (also is null ? "" : ", or " + also)
            + $". Nothing was written; retry after Retry-After ({RetryAfter} s).");

    /// <summary>503 of a command: nothing written, or an outcome that is not known.</summary>
    public static TBuilder AnswersUnavailableCommand<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Answers(StatusCodes.Status503ServiceUnavailable,
            "Storage could not be reached and nothing was written (/problems/storage-unavailable), or it stopped answering while the write "
            + "was on its way, so the command may have been applied (/problems/outcome-unknown): retry after Retry-After "
            + $"({RetryAfter} s) with the same Idempotency-Key (or payment or refund id); it is applied at most once.");

    /// <summary>A request header the route reads itself (not bound to a parameter), so that the document lists it.</summary>
    public static TBuilder ReadsHeader<TBuilder>(this TBuilder builder, string name, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new DocumentedHeader(name, description));

    /// <summary>A header the route reads by hand, for the OpenAPI document.</summary>
    public sealed record DocumentedHeader(string Name, string Description);

    /// <summary>What the route's JSON body holds.</summary>
    public static RouteHandlerBuilder ReadsBody(this RouteHandlerBuilder builder, string description) =>
        builder.WithMetadata(new DocumentedBody(description));

    /// <summary>The description of a route's JSON body, for the OpenAPI document.</summary>
    public sealed record DocumentedBody(string Description);

    public static OpenApiOptions AddOrderFlowDescriptions(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, context, _) =>
        {
            document.Info.Title = Title;
            document.Info.Version = Version;
            document.Info.Description = Description;
            document.Tags = new HashSet<OpenApiTag>(
            [
                new() { Name = "Orders (commands)", Description = "Place an order and take it through payment, shipment, delivery, cancellation and refunds. Needs the writer or admin role." },
                new() { Name = "Orders (queries)", Description = "An order now, as of an event time, at a version, and its event log. Needs the reader or admin role." },
                new() { Name = "Customers (commands)", Description = "Register a customer and change their profile (writer or admin role); erase their personal data (admin role only). Orders stay independent of customers." },
                new() { Name = "Customers (queries)", Description = "A customer now, as of an event time, and their event log. Needs the reader or admin role." },
                new() { Name = "Statistics", Description = "Projections of the order event stream, by event time (UTC): summary, time series, products, customers, stuck orders, risk alerts. Needs the reader or admin role." },
                new() { Name = "Admin", Description = "Rebuilding the statistics projections and what was parked. Needs the admin role." },
            ]);
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Api-Key",
                Description = "An API key configured in Api:Keys, with its role: reader, writer or admin.",
            };
            if (context.ApplicationServices.GetService<AcceptedCredentials>() is { EntraTokens: true })
            {
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A Microsoft Entra ID access token for this API (Authentication:Entra), with an app role in its roles claim: reader, writer or admin.",
                };
            }

            return Task.CompletedTask;
        });
        // Money and durations are decimals, exact as written; the generator would call them doubles.
        // Whole numbers and decimals are read by converters of the API's own (MoneyJsonConverter,
        // WholeNumberJsonConverter), for which the generator can tell no JSON type: it is stated here.
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var underlying = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type);
            var type = underlying ?? context.JsonTypeInfo.Type;
            var orNull = underlying is null ? 0 : JsonSchemaType.Null;
            if (type == typeof(decimal))
            {
                schema.Type = JsonSchemaType.Number | orNull;
                schema.Format = "decimal";
            }
            else if (type == typeof(int))
            {
                schema.Type = JsonSchemaType.Integer | orNull;
                schema.Format = "int32";
            }

            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            foreach (var header in metadata.OfType<DocumentedHeader>())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = header.Name,
                    In = ParameterLocation.Header,
                    Description = header.Description,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }

            if (operation.RequestBody is OpenApiRequestBody body && metadata.OfType<DocumentedBody>().LastOrDefault() is { } documented)
            {
                body.Description = documented.Description;
            }

            // The generator names an answer by its reason phrase only; say when it is given, and list the answers in order.
            if (operation.Responses is { } responses)
            {
                foreach (var produced in metadata.OfType<IProducesResponseTypeMetadata>().Where(p => p.Description is not null))
                {
                    if (responses.TryGetValue(produced.StatusCode.ToString(CultureInfo.InvariantCulture), out var answer) && answer is OpenApiResponse described)
                    {
                        described.Description = produced.Description;
                    }
                }

                var ordered = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
                responses.Clear();
                foreach (var (status, answer) in ordered)
                {
                    responses[status] = answer;
                }
            }

            if (metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] });
                if (context.ApplicationServices.GetService<AcceptedCredentials>() is { EntraTokens: true })
                {
                    // A second requirement is an alternative: a key or a token.
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                }
            }

            foreach (var (status, wait) in new[] { ("429", "Seconds until this caller may send another command."), ("503", $"Seconds to wait before retrying ({RetryAfter}).") })
            {
                if (operation.Responses?.TryGetValue(status, out var refusal) == true && refusal is OpenApiResponse response)
                {
                    response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    response.Headers["Retry-After"] = new OpenApiHeader
                    {
                        Description = wait,
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    };
                }
            }

            return Task.CompletedTask;
        });
        return options;
    }
}
