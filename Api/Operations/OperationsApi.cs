using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Dashboard;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using Scalar.AspNetCore;

namespace OrderFlow.Api.Operations;

/// <summary>API.md "Operations": health, the OpenAPI document, the API reference and the dashboard.</summary>
public static class OperationsApi
{
    public const string ReadyTag = "ready";

    /// <summary>Where the Orleans Dashboard is served: the one place a browser's HTTP Basic credentials are accepted.</summary>
    public const string DashboardPath = "/dashboard";

    /// <summary>
    /// How long each readiness check may take. The checks run concurrently, so <c>/health/ready</c>
    /// answers within about this long even when storage hangs: probes commonly give up after 1 s.
    /// </summary>
    public static readonly TimeSpan CheckBudget = TimeSpan.FromMilliseconds(800);

    private static readonly HttpMethodMetadata GetOrHead = new([HttpMethods.Get, HttpMethods.Head]);

    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<EventStoreHealthCheck>("event-store", tags: [ReadyTag], timeout: CheckBudget)
            .AddCheck<KeyStoreHealthCheck>("key-store", tags: [ReadyTag], timeout: CheckBudget)
            .AddCheck<ClusterHealthCheck>("cluster", tags: [ReadyTag], timeout: CheckBudget)
            .AddCheck<ParkedRecordsHealthCheck>("parked", tags: [ReadyTag], timeout: CheckBudget)
            .AddCheck<ClusterCertificateHealthCheck>("cluster-certificate", tags: [ReadyTag], timeout: CheckBudget)
            .AddCheck<ShutdownDrain>("shutdown", tags: [ReadyTag], timeout: CheckBudget);
        services.AddOpenApi(options => options.AddOrderFlowDescriptions());
        return services;
    }

    public static WebApplication MapOperations(this WebApplication app)
    {
        // GET (and HEAD) only, as every other query: health checks answer any method by default.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth }).AllowAnonymous().WithMetadata(GetOrHead);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteHealth }).AllowAnonymous().WithMetadata(GetOrHead);
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference(options => options.WithTitle(ApiDescriptions.Title)).AllowAnonymous();
        if (OrderFlow.Silo.OrderFlowSiloExtensions.DashboardEnabled(app.Configuration))
        {
            // Its internal routes are the dashboard's own business, not this API's: kept out of the OpenAPI document.
            app.MapOrleansDashboard(DashboardPath).RequireAuthorization(ApiPolicies.Admin).ExcludeFromDescription();
        }
        return app;
    }

    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        if (report.Status == HealthStatus.Unhealthy) // Degraded is still ready: nothing to retry
        {
            context.Response.Headers.RetryAfter = ApiExceptionHandler.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}
