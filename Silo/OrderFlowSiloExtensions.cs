using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Dashboard;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Silo;

/// <summary>
/// The one place where a silo of this system is configured. Every host (the standalone silo, the
/// API's co-hosted silo, the test clusters) calls <see cref="AddOrderFlow"/>; clustering is separate
/// (<see cref="UseOrderFlowClustering"/>) because test clusters bring their own.
/// </summary>
public static class OrderFlowSiloExtensions
{
    /// <summary>Name of the connection string for Azure Table Storage (and, later, queues).</summary>
    public const string TablesConnectionName = "Tables";

    /// <summary>
    /// Registers the event log on Azure Table Storage and its change index, the log-consistency
    /// provider the order aggregate uses, the stream that carries confirmed events to the
    /// statistics projections, their grain storage and their reconciliation with the log, and the
    /// Orleans Dashboard's silo services.
    /// </summary>
    public static ISiloBuilder AddOrderFlow(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<EventStoreOptions>().Bind(configuration.GetSection(EventStoreOptions.Section));
        silo.Services.AddOptions<StatisticsOptions>().Bind(configuration.GetSection(StatisticsOptions.Section));
        silo.Services.AddOptions<ParkingOptions>().Bind(configuration.GetSection(ParkingOptions.Section));
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton(_ => CreateTableServiceClient(configuration));
        silo.Services.TryAddSingleton<TableEventStore>();
        silo.Services.TryAddSingleton<ChangeIndex>();
        silo.Services.TryAddSingleton<StorageRollbacks>();
        silo.Services.TryAddSingleton<UnflushedProjections>();
        silo.Services.TryAddSingleton<ProjectionStateJanitor>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, FlushStatisticsOnShutdown>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ProjectionReconciliation>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloDeathWatch>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, StorageRollbackWatch>();

        silo.AddCustomStorageBasedLogConsistencyProvider(OrderGrain.LogConsistencyProviderName);
        AddOrderEventStreams(silo, configuration);
        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddAzureTableGrainStorage(StatisticsOptions.StorageName, builder => builder.Configure<IServiceProvider>((options, services) =>
        {
            options.TableServiceClient = CreateTableServiceClient(configuration);
            options.TableName = services.GetRequiredService<IOptions<StatisticsOptions>>().Value.TableName;

            // A projection's state is one table entity (at most 1 MiB). Orleans' default grain-state
            // format is JSON with a type name and a reference id on every object: a day of 5,000 orders
            // on one shard took 2.0 MiB as JSON (unwritable) and about 440 KiB in Orleans' binary format
            // (version tolerant through [Id] and [Alias]). State written as JSON by earlier versions is
            // still read, by the fallback.
            options.GrainStorageSerializer = new GrainStorageSerializer(
                new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
                services.GetRequiredService<IGrainStorageSerializer>());
        }));

        if (DashboardEnabled(configuration))
        {
            silo.AddDashboard();
        }

        return silo;
    }

    /// <summary><c>Dashboard:Enabled</c> (default true): whether silos register the Orleans Dashboard and the API maps it.</summary>
    public static bool DashboardEnabled(IConfiguration configuration) => configuration.GetValue("Dashboard:Enabled", true);

    /// <summary>Configuration key choosing the stream that carries order events: <c>Memory</c> (default) or <c>AzureQueue</c>.</summary>
    public const string StreamsProviderKey = "Streams:Provider";

    /// <summary>
    /// Memory streams by default: fast, but events in flight are lost if a silo dies (the
    /// publication marker and a rebuild repair that). Azure Queue streams keep events in storage
    /// queues until consumed, so delivery survives a silo crash; their connection string is
    /// <c>ConnectionStrings:Queues</c>, else the tables' one (Azurite's serves both).
    /// </summary>
    private static void AddOrderEventStreams(ISiloBuilder silo, IConfiguration configuration)
    {
        var provider = configuration[StreamsProviderKey] ?? "Memory";
        switch (provider)
        {
            case "Memory":
                silo.AddMemoryStreams(OrderEventStreams.ProviderName);
                break;
            case "AzureQueue":
                var connection = configuration.GetConnectionString("Queues") ?? configuration.GetConnectionString(TablesConnectionName) ?? "UseDevelopmentStorage=true";
                var queues = configuration.GetValue("Streams:QueueCount", 4);
                silo.AddAzureQueueStreams(OrderEventStreams.ProviderName, options => options.Configure(queue =>
                {
                    if (Uri.TryCreate(connection, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "https" or "http")
                    {
                        queue.QueueServiceClient = new Azure.Storage.Queues.QueueServiceClient(endpoint, new DefaultAzureCredential());
                    }
                    else
                    {
                        queue.QueueServiceClient = new Azure.Storage.Queues.QueueServiceClient(connection);
                    }

                    queue.QueueNames = [.. Enumerable.Range(0, queues).Select(i => $"orderflow-events-{i}")];
                }));
                break;
            default:
                throw new InvalidOperationException($"{StreamsProviderKey} is '{provider}'; it must be Memory or AzureQueue.");
        }
    }

    /// <summary>
    /// Localhost clustering on the ports from <c>Orleans:SiloPort</c> (11111) and
    /// <c>Orleans:GatewayPort</c> (30000): one silo, or several on one machine.
    /// </summary>
    public static ISiloBuilder UseOrderFlowClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var orleans = configuration.GetSection("Orleans");
        silo.UseLocalhostClustering(
            siloPort: orleans.GetValue("SiloPort", EndpointOptions.DEFAULT_SILO_PORT),
            gatewayPort: orleans.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT),
            serviceId: orleans.GetValue("ServiceId", "orderflow")!,
            clusterId: orleans.GetValue("ClusterId", "orderflow-dev")!);
        return silo;
    }

    /// <summary>
    /// A connection string (Azurite's development storage when none is set), or the table
    /// endpoint URI of a Storage account, reached with <see cref="DefaultAzureCredential"/>
    /// (managed identity in Azure). Storage calls fail fast so that a command answers 503 within
    /// seconds when storage is down or hangs, instead of retrying for a minute: each try gets 3 s,
    /// and the event store bounds a whole operation (<c>EventStore:OperationTimeout</c>).
    /// </summary>
    public static TableServiceClient CreateTableServiceClient(IConfiguration configuration)
    {
        var setting = configuration.GetConnectionString(TablesConnectionName);
        if (string.IsNullOrWhiteSpace(setting))
        {
            setting = "UseDevelopmentStorage=true";
        }

        var options = new TableClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(3);

        return Uri.TryCreate(setting, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "https" or "http"
            ? new TableServiceClient(endpoint, new DefaultAzureCredential(), options)
            : new TableServiceClient(setting, options);
    }
}
