using System.Text.Json;
using System.Text.Json.Serialization;
using OrderFlow.Api.Admin;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Customers;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Json;
using OrderFlow.Api.Operations;
using OrderFlow.Api.Orders;
using OrderFlow.Api.Statistics;
using OrderFlow.Silo;

namespace OrderFlow.Api;

/// <summary>
/// Builds the API host: ASP.NET Core in front of a co-hosted Orleans silo configured by
/// <see cref="OrderFlowSiloExtensions.AddOrderFlow"/>, or, with <c>Orleans:ApiHost</c> = <c>Client</c>,
/// in front of an Orleans client of a cluster of standalone silos
/// (<see cref="OrderFlowClientExtensions.UseOrderFlowClient"/>).
/// </summary>
public static class ApiApplication
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The live page (wwwroot) is copied next to the assembly, so it is found whatever the
        // working directory (run.sh, a published container, a test host).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        configure?.Invoke(builder);

        if (OrleansHostSettings.From(builder.Configuration).ApiHost == ApiHostShape.Client)
        {
            builder.UseOrleansClient(client => client.UseOrderFlowClient(builder.Configuration));
            OrderFlowSiloExtensions.AddOrderFlowEventLog(builder.Services, builder.Configuration); // the readiness check reads the log
        }
        else
        {
            builder.UseOrleans(silo => silo
                .UseOrderFlowClustering(builder.Configuration)
                .AddOrderFlow(builder.Configuration));
        }

        builder.AddGracefulShutdown();
        builder.AddOrderFlowApiTelemetry();
        builder.AddApiAccess();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<IProblemDetailsWriter, AnyAcceptProblemWriter>(); // after the framework's writer: what it declines
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            // Strict reading (API.md): a repeated property is refused, not "last wins"; a number must
            // be a JSON number, not a string. Unknown properties stay ignored.
            options.SerializerOptions.AllowDuplicateProperties = false;
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            options.SerializerOptions.Converters.Add(new UtcDateTimeOffsetConverter());
            options.SerializerOptions.Converters.Add(new MoneyJsonConverter());
            options.SerializerOptions.Converters.Add(new WholeNumberJsonConverter());
        });
        builder.Services.AddOperations();

        var app = builder.Build();
        app.UseCorrelationIdEcho();
        app.UseExceptionHandler();
        app.UseDefaultFiles();
        app.UseStaticFiles(); // the live statistics page at /; its data calls need the reader role
        app.UseStatusCodePages(context => Problems.ForStatusCodeAsync(context.HttpContext));
        // Who may send a body is settled before any of it is read: an anonymous or unauthorised
        // request is refused (401, 403) whatever its size.
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter(); // per caller, so after authentication; before any body is read
        app.UseMiddleware<RequestBodyLimit>();
        app.UseMiddleware<JsonCharset>(); // after the body is read: an empty chunked body is none, whatever its charset

        app.MapOrdersApi();
        app.MapCustomersApi();
        app.MapStatisticsApi();
        app.MapAdminApi();
        app.MapOperations();
        return app;
    }
}
