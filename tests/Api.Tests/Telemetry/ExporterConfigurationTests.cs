using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Silo;

namespace OrderFlow.Api.Tests.Telemetry;

/// <summary>
/// README "Telemetry": exporters by configuration, in both host shapes: OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, Azure Monitor when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>
/// is, neither by default. Judged by what the built host registered (nothing is started).
/// </summary>
public sealed class ExporterConfigurationTests
{
    private const string OtlpAssembly = "OpenTelemetry.Exporter.OpenTelemetryProtocol";
    private const string AzureMonitorAssemblies = "Azure.Monitor.OpenTelemetry";
    private const string ConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/";

    public static TheoryData<string?, string?, bool, bool> Settings => new()
    {
        { null, null, false, false },
        { "http://127.0.0.1:4317", null, true, false },
        { null, ConnectionString, false, true },
        { "http://127.0.0.1:4317", ConnectionString, true, true },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public async Task The_API_exports_where_the_configuration_says(string? otlpEndpoint, string? applicationInsights, bool otlp, bool azureMonitor)
    {
        var (args, settings) = ApiHost.Configuration("UseDevelopmentStorage=true", "Production", withKeys: true, httpPort: 1);
        settings[OrderFlowOpenTelemetry.OtlpEndpointKey] = otlpEndpoint;
        settings[OrderFlowOpenTelemetry.ApplicationInsightsKey] = applicationInsights;
        IServiceCollection? services = null;

        await using var app = ApiApplication.Build(args, builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            services = builder.Services;
        });

        Assert.Equal(otlp, Registers(services!, OtlpAssembly));
        Assert.Equal(azureMonitor, Registers(services!, AzureMonitorAssemblies));
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void A_standalone_silo_exports_where_the_configuration_says(string? otlpEndpoint, string? applicationInsights, bool otlp, bool azureMonitor)
    {
        var settings = new Dictionary<string, string?>
        {
            [OrderFlowOpenTelemetry.OtlpEndpointKey] = otlpEndpoint,
            [OrderFlowOpenTelemetry.ApplicationInsightsKey] = applicationInsights,
        };
        IServiceCollection? services = null;

        using var silo = SiloApplication.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            services = builder.Services;
        });

        Assert.Equal(otlp, Registers(services!, OtlpAssembly));
        Assert.Equal(azureMonitor, Registers(services!, AzureMonitorAssemblies));
    }

    /// <summary>Whether any registration names a type of an assembly whose name starts with <paramref name="assembly"/>.</summary>
    private static bool Registers(IServiceCollection services, string assembly) =>
        services.SelectMany(TypesOf).Any(type => type.Assembly.GetName().Name?.StartsWith(assembly, StringComparison.Ordinal) == true);

    private static IEnumerable<Type> TypesOf(ServiceDescriptor descriptor)
    {
        yield return descriptor.ServiceType;
        foreach (var argument in descriptor.ServiceType.GenericTypeArguments)
        {
            yield return argument;
        }

        var implementation = descriptor.IsKeyedService
            ? descriptor.KeyedImplementationType ?? descriptor.KeyedImplementationInstance?.GetType() ?? descriptor.KeyedImplementationFactory?.Method.DeclaringType
            : descriptor.ImplementationType ?? descriptor.ImplementationInstance?.GetType() ?? descriptor.ImplementationFactory?.Method.DeclaringType;
        if (implementation is not null)
        {
            yield return implementation;
        }
    }
}
