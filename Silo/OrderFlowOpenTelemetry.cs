using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrderFlow.Grains.Telemetry;

namespace OrderFlow.Silo;

/// <summary>
/// The one definition of what this system traces, measures and logs through OpenTelemetry, and
/// where it goes (README "Telemetry"). Each host shape adds its own part: the standalone silo
/// (<see cref="AddOrderFlowSiloTelemetry"/>) and the API (<c>Api/Operations/ApiTelemetry.cs</c>).
/// Exporters follow the standard settings: OTLP when <see cref="OtlpEndpointKey"/> is set, Azure
/// Monitor when <see cref="ApplicationInsightsKey"/> is set, none by default.
/// </summary>
public static class OrderFlowOpenTelemetry
{
    /// <summary>Where OTLP goes (<c>http://localhost:4317</c> for a local collector); the other <c>OTEL_EXPORTER_OTLP_*</c> settings apply too.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The Application Insights resource to export to.</summary>
    public const string ApplicationInsightsKey = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Overrides the service name a host reports (<c>orderflow-api</c>, <c>orderflow-silo</c>).</summary>
    public const string ServiceNameKey = "OTEL_SERVICE_NAME";

    /// <summary>Orleans' meter: grain calls, activations, messaging, streams.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Orleans' spans (grain calls in <c>Microsoft.Orleans.Runtime</c> and <c>.Application</c>, also lifecycle and storage); <c>AddActivityPropagation</c> carries their context between silos and clients.</summary>
    public static readonly string[] OrleansActivitySources = ["Microsoft.Orleans.*"];

    /// <summary>Every Azure SDK client's spans (<c>Azure.Data.Tables.TableClient</c>, the queues of Azure Queue streams…).</summary>
    public const string AzureSdkActivitySources = "Azure.*";

    /// <summary>Azure.Core creates its spans through <see cref="System.Diagnostics.ActivitySource"/> only with this switch on (experimental in Azure.Core 1.62).</summary>
    public const string AzureSdkActivitySourceSwitch = "Azure.Experimental.EnableActivitySource";

    /// <summary>
    /// The OpenTelemetry every host has; <paramref name="useAzureMonitor"/> adds its host's Azure Monitor
    /// exporter, given the connection string and the ratio it counts kept spans by
    /// (<see cref="OrderFlowTraceSampler.ExportedRatio"/>; its own sampler, which that ratio also
    /// configures, <see cref="OrderFlowTraceSampler"/> then replaces).
    /// </summary>
    public static OpenTelemetryBuilder AddOrderFlowOpenTelemetry(
        IHostApplicationBuilder builder, string serviceName, Action<OpenTelemetryBuilder, string, float> useAzureMonitor)
    {
        AppContext.SetSwitch(AzureSdkActivitySourceSwitch, true);
        var configuration = builder.Configuration;
        var sampler = OrderFlowTraceSampler.From(configuration);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                string.IsNullOrWhiteSpace(configuration[ServiceNameKey]) ? serviceName : configuration[ServiceNameKey]!))
            .WithTracing(tracing => tracing
                .AddSource(OrderFlowTelemetry.Name)
                .AddSource(OrleansActivitySources)
                .AddSource(AzureSdkActivitySources)
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(OrderFlowTelemetry.Name, OrleansMeter)
                .AddRuntimeInstrumentation()
                .AddHttpClientInstrumentation())
            .WithLogging();

        if (ExportsToOtlp(configuration))
        {
            telemetry.UseOtlpExporter();
        }

        if (ExportsToAzureMonitor(configuration))
        {
            useAzureMonitor(telemetry, configuration[ApplicationInsightsKey]!, (float)sampler.ExportedRatio);
        }

        // After Azure Monitor's: its default (a rate per process, 5 traces a second) decides in each
        // process alone and would split a command's trace between the API and the silos.
        telemetry.WithTracing(tracing => tracing.SetSampler(sampler));
        return telemetry;
    }

    /// <summary>Whether <paramref name="configuration"/> sends telemetry anywhere (OTLP or Azure Monitor); by default it goes nowhere.</summary>
    public static bool Exports(IConfiguration configuration) => ExportsToOtlp(configuration) || ExportsToAzureMonitor(configuration);

    private static bool ExportsToOtlp(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);

    private static bool ExportsToAzureMonitor(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[ApplicationInsightsKey]);

    /// <summary>A standalone silo's telemetry: the shared part, exported to Azure Monitor by the Azure Monitor exporter.</summary>
    public static HostApplicationBuilder AddOrderFlowSiloTelemetry(this HostApplicationBuilder builder)
    {
        AddOrderFlowOpenTelemetry(builder, "orderflow-silo", (telemetry, connectionString, ratio) =>
            telemetry.UseAzureMonitorExporter(exporter =>
            {
                exporter.ConnectionString = connectionString;
                exporter.SamplingRatio = ratio;
                exporter.TracesPerSecond = null;
            }));
        return builder;
    }
}
