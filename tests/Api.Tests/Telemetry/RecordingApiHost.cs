using System.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Telemetry;

/// <summary>
/// The real API host (with its co-hosted silo) whose OpenTelemetry, as production configures it,
/// also exports to memory: every span (of any host in this process, since activity sources are
/// process-wide; tests pick theirs by trace id) and the metrics, four times a second.
/// </summary>
public sealed class RecordingApiHost(AzuriteFixture azurite) : IAsyncLifetime
{
    private ApiHost? host;

    public ApiHost Host => host ?? throw new InvalidOperationException("The API host has not started.");

    public LockedCollection<Activity> Spans { get; } = new();

    public LockedCollection<MetricSnapshot> Metrics { get; } = new();

    public async ValueTask InitializeAsync() =>
        host = await ApiHost.StartAsync(azurite.ConnectionString, configure: builder =>
        {
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
            builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(
                Metrics, reader => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 250));
        });

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}
