using Azure.Monitor.OpenTelemetry.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Dashboard;
using OrderFlow.Silo;

namespace OrderFlow.Api.Operations;

/// <summary>
/// The API's telemetry (README "Telemetry"): what every host has (<see cref="OrderFlowOpenTelemetry"/>),
/// its co-hosted silo's or Orleans client's included, plus ASP.NET Core's requests; to Azure Monitor
/// through its ASP.NET Core distribution.
/// </summary>
public static class ApiTelemetry
{
    public static WebApplicationBuilder AddOrderFlowApiTelemetry(this WebApplicationBuilder builder)
    {
        OrderFlowOpenTelemetry.AddOrderFlowOpenTelemetry(builder, "orderflow-api", (telemetry, connectionString, ratio) =>
                telemetry.UseAzureMonitor(monitor =>
                {
                    monitor.ConnectionString = connectionString;
                    monitor.SamplingRatio = ratio;
                    monitor.TracesPerSecond = null;
                }))
            .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation(requests => requests.Filter = IsTraced))
            .WithMetrics(metrics => metrics.AddAspNetCoreInstrumentation());

        // The dashboard's log stream shows every silo's log to whoever may open it: in development only,
        // as the Orleans documentation advises.
        builder.Services.Configure<DashboardOptions>(dashboard => dashboard.HideTrace = !builder.Environment.IsDevelopment());
        return builder;
    }

    /// <summary>Probes and the dashboard's polling (every second while it is open) are not traced: they would drown the requests.</summary>
    private static bool IsTraced(HttpContext context) =>
        !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments(OperationsApi.DashboardPath);
}
