using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Clustering.AzureStorage;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Dashboard;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Parking;
using OrderFlow.Grains.Projections.Reconciliation;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Streams;

namespace OrderFlow.Silo;

/// <summary>
/// The one place where a silo of this system is configured. Every host (the standalone silo, the
/// API's co-hosted silo, the test clusters) calls <see cref="AddOrderFlow"/>; clustering is separate
/// (<see cref="UseOrderFlowClustering"/>) because test clusters bring their own. The API's Orleans
/// client, when it is one, is configured by <see cref="OrderFlowClientExtensions"/>.
/// </summary>
public static class OrderFlowSiloExtensions
{
    /// <summary>Name of the connection string for Azure Table Storage (and, later, queues).</summary>
    public const string TablesConnectionName = "Tables";

    /// <summary>
    /// Name of the connection string of the data subjects' key table (README "Personal data"): by
    /// default the tables' own; another account keeps keys apart from the data they protect.
    /// </summary>
    public const string KeysConnectionName = "Keys";

    /// <summary>
    /// How the apps authenticate to Azure services (storage, Key Vault) when given an endpoint URI:
    /// <see cref="DefaultAzureCredential"/>, the user-assigned managed identity named by <c>AZURE_CLIENT_ID</c> in Azure.
    /// One instance, so that its tokens are cached for every client.
    /// </summary>
    private static readonly TokenCredential AzureCredential = new DefaultAzureCredential();

    /// <summary>
    /// Registers the event log on Azure Table Storage and its change index, the log-consistency
    /// provider the order aggregate uses, the stream that carries confirmed events to the
    /// statistics projections, their grain storage and their reconciliation with the log, and the
    /// Orleans Dashboard's silo services.
    /// </summary>
    public static ISiloBuilder AddOrderFlow(this ISiloBuilder silo, IConfiguration configuration)
    {
        AddOrderFlowEventLog(silo.Services, configuration);
        GrainCollectionTuning.Configure(silo.Services, configuration);
        silo.Services.AddOptions<StatisticsOptions>().Bind(configuration.GetSection(StatisticsOptions.Section)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<StatisticsOptions>, RiskOptionsValidation>();
        silo.Services.AddSingleton<IValidateOptions<StatisticsOptions>, StatisticsOptionsValidation>();
        silo.Services.AddOptions<ParkingOptions>().Bind(configuration.GetSection(ParkingOptions.Section)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<ParkingOptions>, ParkingOptionsValidation>();
        silo.Services.TryAddSingleton<ChangeIndex>();
        silo.Services.TryAddSingleton<ChangeAnnouncer>();
        silo.Services.TryAddSingleton<EventLogs>();
        silo.Services.TryAddSingleton<EventStreamHandles>();
        silo.Services.TryAddSingleton<EventSourcingServices>();
        silo.Services.TryAddSingleton(services => new ConfirmedEnvelopes(
            services.GetRequiredService<StorageRollbacks>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<IOptions<StatisticsOptions>>().Value.Reconciliation.HeldEnvelopes));
        silo.Services.TryAddSingleton<IPersonalDataEraser, SubjectKeyEraser>();
        silo.Services.TryAddSingleton<StorageRollbacks>();
        silo.Services.TryAddSingleton<PersonalDataProtector>();
        silo.Services.TryAddSingleton<UnflushedProjections>();
        silo.Services.TryAddSingleton<ProjectionStateJanitor>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, FlushStatisticsOnShutdown>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ProjectionReconciliation>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloDeathWatch>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, StorageRollbackWatch>();
        var keyEncryptionKeyConfigured = configuration.GetSection(KeyEncryptionKeyOptions.Section).Get<KeyEncryptionKeyOptions>()?.IsConfigured == true;
        if (KeysInAzureStorage(configuration) && !keyEncryptionKeyConfigured)
        {
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PlainSubjectKeysWarning>();
        }

        if (keyEncryptionKeyConfigured)
        {
            silo.Services.AddSingleton<KeyEncryptionKeyStartCheck>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<KeyEncryptionKeyStartCheck>());
        }

        silo.AddActivityPropagation(); // a grain call's trace context goes with it (README "Telemetry")
        silo.AddCustomStorageBasedLogConsistencyProvider(EventSourcingServices.LogConsistencyProviderName);
        AddOrderEventStreams(silo, configuration);
        silo.AddMemoryGrainStorage("PubSubStore");
        silo.Services.AddGrainStorage(StatisticsOptions.StorageName, StatisticsGrainStorage.Create);

        if (DashboardEnabled(configuration))
        {
            silo.AddDashboard();
        }

        return silo;
    }

    /// <summary>
    /// The event log's table access: what a silo's grains use, and what the API reads for its
    /// readiness check whether or not it hosts a silo.
    /// </summary>
    public static IServiceCollection AddOrderFlowEventLog(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventStoreOptions>().Bind(configuration.GetSection(EventStoreOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EventStoreOptions>, EventStoreOptionsValidation>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => CreateTableServiceClient(configuration, provider));
        services.TryAddSingleton<TableEventStore>();
        services.AddOptions<PersonalDataOptions>().Bind(configuration.GetSection(PersonalDataOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PersonalDataOptions>, PersonalDataOptionsValidation>());
        services.TryAddSingleton(provider => new SubjectKeyWrapping(
            KeyEncryptionKeys(provider.GetRequiredService<IOptions<PersonalDataOptions>>().Value.KeyEncryptionKey, provider),
            provider.GetRequiredService<ILogger<SubjectKeyWrapping>>()));
        services.TryAddSingleton(provider => new SubjectKeyStore(
            CreateTableServiceClient(configuration, KeysConnectionName, provider),
            provider.GetRequiredService<IOptions<PersonalDataOptions>>(),
            provider.GetRequiredService<IOptions<EventStoreOptions>>(),
            provider.GetRequiredService<SubjectKeyWrapping>()));
        return services;
    }

    /// <summary>
    /// The key-encryption key's source: a Key Vault secret read with <see cref="AzureCredential"/>
    /// (the managed identity in Azure), keys given in configuration, or none (subject keys in plain).
    /// </summary>
    private static IKeyEncryptionKeys? KeyEncryptionKeys(KeyEncryptionKeyOptions options, IServiceProvider services)
    {
        if (options.UsesVault)
        {
            // Fail fast, as storage does (CreateTableServiceClient): the key store's operation deadline bounds the whole read.
            var clientOptions = FailingFast(new SecretClientOptions());
            return new KeyVaultKeyEncryptionKeys(
                new SecretClient(options.VaultUri!, AzureCredential, clientOptions), options.SecretName!, options.VaultRefreshInterval,
                services.GetRequiredService<TimeProvider>());
        }

        return options.Keys.Count > 0 ? new ConfiguredKeyEncryptionKeys(options) : null;
    }

    /// <summary>
    /// Whether the subjects' keys are kept in Azure Storage reached with a managed identity (the
    /// keys' connection, else the tables', is an endpoint URI), as in the Azure template: where a
    /// key table without a key-encryption key is warned about at start.
    /// </summary>
    public static bool KeysInAzureStorage(IConfiguration configuration) =>
        Uri.TryCreate(ConnectionSetting(configuration, KeysConnectionName), UriKind.Absolute, out var endpoint) && endpoint.Scheme == "https";

    /// <summary><c>Dashboard:Enabled</c> (default true): whether silos register the Orleans Dashboard and the API maps it.</summary>
    public static bool DashboardEnabled(IConfiguration configuration) => configuration.GetValue("Dashboard:Enabled", true);

    /// <summary>Configuration key choosing the stream that carries order events: <c>Memory</c> or <c>AzureQueue</c> (default: <see cref="DefaultStreamsProvider"/>).</summary>
    public const string StreamsProviderKey = "Streams:Provider";

    /// <summary>How often a silo's pulling agents look for events on the memory streams (Orleans' default: 100 ms, most of a 50 ms lag budget).</summary>
    public static readonly TimeSpan MemoryStreamPollPeriod = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Events a pulling agent hands a stream's consumer at once (Orleans' default: 1): it waits for
    /// the batch to be counted before it moves on, so batching acknowledges nothing before it is counted.
    /// </summary>
    public const int StreamDeliveryBatchSize = 256;

    /// <summary>Configuration key: how long the memory streams keep an event they have read (<see cref="DefaultMemoryStreamCacheRetention"/>).</summary>
    public const string MemoryStreamCacheRetentionKey = "Streams:MemoryCacheRetention";

    /// <summary>
    /// How long a silo's memory-stream cache keeps an event once it is read from its queue. Orleans'
    /// default keeps every event until it is 30 minutes older than the newest (and at least 5 in the
    /// cache), which under load holds tens of minutes of events in memory. A consumer needs an event
    /// only until it has counted it; its cursor stands still at most while one batch is retried
    /// (<c>StreamPullingAgentOptions.MaxEventDeliveryTime</c>, 1 minute, then a last attempt and the
    /// error notice, up to a response timeout of 30 s each), so three minutes are kept. A consumer
    /// further behind than this finds its next events gone and goes on from the newest, as after a
    /// silo died: the reconciliation counts what it skipped from the log.
    /// </summary>
    public static readonly TimeSpan DefaultMemoryStreamCacheRetention = TimeSpan.FromMinutes(3);

    /// <summary><see cref="MemoryStreamCacheRetentionKey"/>, at least a second.</summary>
    public static TimeSpan MemoryStreamCacheRetention(IConfiguration configuration)
    {
        var retention = configuration.GetValue(MemoryStreamCacheRetentionKey, DefaultMemoryStreamCacheRetention);
        return retention >= TimeSpan.FromSeconds(1)
            ? retention
            : throw new InvalidOperationException($"{MemoryStreamCacheRetentionKey} is {retention}; it must be at least one second.");
    }

    public const string QueueCountKey = "Streams:QueueCount";

    /// <summary>
    /// <see cref="QueueCountKey"/>, at least 1: with none, Orleans would quietly put its own default
    /// queues in their place, which silos configured otherwise do not read.
    /// </summary>
    public static int QueueCount(IConfiguration configuration)
    {
        var queues = configuration.GetValue(QueueCountKey, 4);
        return queues >= 1
            ? queues
            : throw new InvalidOperationException($"{QueueCountKey} is {queues}; it must be at least 1 (the storage queues that carry the order events).");
    }

    /// <summary>Azure Queue streams when silos share a membership table (a cluster of processes), memory streams for the single process.</summary>
    public static string DefaultStreamsProvider(IConfiguration configuration) =>
        OrleansHostSettings.From(configuration).Clustering == ClusteringProvider.AzureTable ? "AzureQueue" : "Memory";

    /// <summary>
    /// Memory streams for a single process (see <see cref="DefaultStreamsProvider"/>): fast, but events in flight are lost if a silo dies (the
    /// publication marker and a rebuild repair that). Azure Queue streams keep events in storage
    /// queues until consumed, so delivery survives a silo crash; their connection is
    /// <see cref="QueuesConnection"/>.
    /// </summary>
    private static void AddOrderEventStreams(ISiloBuilder silo, IConfiguration configuration)
    {
        var provider = configuration[StreamsProviderKey] ?? DefaultStreamsProvider(configuration);
        switch (provider)
        {
            case "Memory":
                var retention = MemoryStreamCacheRetention(configuration);
                silo.AddMemoryStreams(OrderEventStreams.ProviderName, streams =>
                {
                    // A poll of an in-memory queue costs no storage request: polled often, it adds little to the statistics' lag.
                    streams.ConfigurePullingAgent(agent => agent.Configure(options =>
                    {
                        options.GetQueueMsgsTimerPeriod = MemoryStreamPollPeriod;
                        options.BatchContainerBatchSize = StreamDeliveryBatchSize;
                    }));

                    // An event leaves the cache once it is older than both (Orleans purges on both
                    // conditions). A stream's last position is kept until the agent forgets an idle
                    // stream anyway, so that a shard quiet for longer than the retention still gets
                    // the event that wakes it (one entry per stream: a few shards).
                    streams.ConfigureCacheEviction(eviction => eviction.Configure(options =>
                    {
                        options.DataMinTimeInCache = retention;
                        options.DataMaxAgeInCache = retention;
                        options.MetadataMinTimeInCache = new StreamPullingAgentOptions().StreamInactivityPeriod;
                    }));
                });
                break;
            case "AzureQueue":
                var queues = QueueCount(configuration);
                var connection = QueuesConnection(configuration);
                silo.AddAzureQueueStreams(OrderEventStreams.ProviderName, streams =>
                {
                    streams.ConfigurePullingAgent(agent => agent.Configure(options => options.BatchContainerBatchSize = StreamDeliveryBatchSize));
                    streams.ConfigureAzureQueue(options => options.Configure<IServiceProvider>((queue, services) => ConfigureQueues(queue, services, connection, queues)));
                });
                break;
            default:
                throw new InvalidOperationException($"{StreamsProviderKey} is '{provider}'; it must be Memory or AzureQueue.");
        }
    }

    /// <summary>The queues of Azure Queue streams and their client (<see cref="QueuesConnection"/>).</summary>
    private static void ConfigureQueues(Orleans.Configuration.AzureQueueOptions queue, IServiceProvider services, string connection, int queues)
    {
        // Fail fast as the tables do: a command's answer waits for its publication (within its deadline, EventSourcedGrain).
        var clientOptions = FailingFast(new Azure.Storage.Queues.QueueClientOptions());
        AddStorageClientPolicies(clientOptions, services);
        if (Uri.TryCreate(connection, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "https" or "http")
        {
            queue.QueueServiceClient = new Azure.Storage.Queues.QueueServiceClient(endpoint, AzureCredential, clientOptions);
        }
        else
        {
            queue.QueueServiceClient = new Azure.Storage.Queues.QueueServiceClient(connection, clientOptions);
        }

        queue.QueueNames = [.. Enumerable.Range(0, queues).Select(i => $"orderflow-events-{i}")];
    }

    /// <summary>
    /// The queue service of Azure Queue streams: <c>ConnectionStrings:Queues</c>, else the tables'
    /// setting. A connection string serves as it is (it names the account, or carries a
    /// QueueEndpoint); an endpoint URI of the table service (<c>https://account.table.core.windows.net</c>,
    /// any cloud's suffix) becomes the queue service's (<c>.table.</c> made <c>.queue.</c>). Any other
    /// URI (Azurite's <c>http://127.0.0.1:10002/devstoreaccount1</c>) names no queue service: an error.
    /// </summary>
    public static string QueuesConnection(IConfiguration configuration)
    {
        var queues = configuration.GetConnectionString("Queues");
        if (!string.IsNullOrWhiteSpace(queues))
        {
            return queues;
        }

        var tables = configuration.GetConnectionString(TablesConnectionName);
        if (string.IsNullOrWhiteSpace(tables))
        {
            return "UseDevelopmentStorage=true";
        }

        if (!(Uri.TryCreate(tables, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "https" or "http"))
        {
            return tables;
        }

        var label = endpoint.Host.IndexOf(".table.", StringComparison.OrdinalIgnoreCase);
        if (label < 0)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:Queues is not set, and the queue service cannot be derived from ConnectionStrings:{TablesConnectionName} "
                + $"('{tables}' is not a table service's endpoint, <account>.table.<suffix>): set ConnectionStrings:Queues for Azure Queue streams.");
        }

        var host = string.Concat(endpoint.Host.AsSpan(0, label), ".queue.", endpoint.Host.AsSpan(label + ".table.".Length));
        return new UriBuilder(endpoint) { Host = host }.Uri.AbsoluteUri;
    }

    /// <summary>
    /// Clustering from the <c>Orleans</c> section (<see cref="OrleansHostSettings"/>): localhost, or
    /// the membership table in Azure Table Storage; this silo's ports, the address it advertises,
    /// the cluster it belongs to, how fast it notices a dead silo (<see cref="MembershipTuning"/>), and
    /// mutual TLS on its connections when a certificate is configured (<see cref="ClusterTlsSettings"/>).
    /// </summary>
    public static ISiloBuilder UseOrderFlowClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var settings = OrleansHostSettings.From(configuration);
        var advertised = settings.ResolveAdvertisedAddress();
        switch (settings.Clustering)
        {
            case ClusteringProvider.Localhost:
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
                break;
            case ClusteringProvider.AzureTable:
                silo.Configure<ClusterOptions>(settings.ApplyTo);
                silo.UseAzureStorageClustering(table => UseMembershipTable(table, settings, configuration));
                break;
        }

        // After UseLocalhostClustering, which advertises loopback: an address set in configuration wins.
        silo.Configure<EndpointOptions>(endpoints =>
        {
            endpoints.SiloPort = settings.SiloPort;
            endpoints.GatewayPort = settings.GatewayPort;
            endpoints.AdvertisedIPAddress = advertised;
        });
        MembershipTuning.Configure(silo.Services, configuration);
        if (ClusterTlsSettings.From(configuration) is { } tls)
        {
            silo.UseTls(tls.Configure);
            silo.Services.AddSingleton(tls);
        }

        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ListeningAddressLog>();
        if (settings.ProbePort is { } probePort)
        {
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services =>
                new ActiveSiloProbe(probePort, services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ActiveSiloProbe>>()));
        }

        return silo;
    }

    /// <summary>The membership table silos and the API's client read: <see cref="OrleansHostSettings.ClusteringTable"/> on <see cref="CreateClusteringTableServiceClient"/>.</summary>
    internal static void UseMembershipTable(AzureStorageOperationOptions table, OrleansHostSettings settings, IConfiguration configuration)
    {
        table.TableServiceClient = CreateClusteringTableServiceClient(configuration);
        table.TableName = settings.ClusteringTable;
    }

    /// <summary>The membership table's storage: <c>ConnectionStrings:Clustering</c>, else the tables' one, by the same rule as <see cref="CreateTableServiceClient"/>.</summary>
    public static TableServiceClient CreateClusteringTableServiceClient(IConfiguration configuration) =>
        CreateTableServiceClient(configuration, OrleansHostSettings.ClusteringConnectionName, services: null);

    /// <summary>
    /// A connection string (Azurite's development storage when none is set), or the table
    /// endpoint URI of a Storage account, reached with <see cref="DefaultAzureCredential"/>
    /// (managed identity in Azure). Storage calls fail fast so that a command answers 503 within
    /// seconds when storage is down or hangs, instead of retrying for a minute: each try gets 3 s,
    /// and the event store bounds a whole operation (<c>EventStore:OperationTimeout</c>). A
    /// transaction's body is written once (<see cref="TransactionBodyPolicy"/>), and a try of one
    /// that storage answered is noted (<see cref="TransactionAnswerWatch"/>).
    /// Given <paramref name="services"/>, every <see cref="StorageClientPolicy"/> registered there is added.
    /// </summary>
    public static TableServiceClient CreateTableServiceClient(IConfiguration configuration, IServiceProvider? services = null) =>
        CreateTableServiceClient(configuration, TablesConnectionName, services);

    /// <param name="connectionName">A connection string name tried before the tables' one.</param>
    private static TableServiceClient CreateTableServiceClient(IConfiguration configuration, string connectionName, IServiceProvider? services)
    {
        var setting = ConnectionSetting(configuration, connectionName);
        var options = FailingFast(new TableClientOptions());
        options.AddPolicy(new TransactionBodyPolicy(), HttpPipelinePosition.PerCall);
        options.AddPolicy(new TransactionAnswerWatch(), HttpPipelinePosition.PerRetry);
        if (services is not null)
        {
            AddStorageClientPolicies(options, services);
        }

        return Uri.TryCreate(setting, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "https" or "http"
            ? new TableServiceClient(endpoint, AzureCredential, options)
            : new TableServiceClient(setting, options);
    }

    /// <summary>
    /// The retries of every storage client of the silo: two, soon, and 3 s for a try, not the SDK's
    /// 100 s a try with three retries up to a minute apart; a caller's deadline bounds the whole.
    /// </summary>
    private static T FailingFast<T>(T options)
        where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(3);
        return options;
    }

    /// <summary>The connection string named <paramref name="connectionName"/>, else the tables' one, else Azurite's development storage.</summary>
    private static string ConnectionSetting(IConfiguration configuration, string connectionName)
    {
        var setting = configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(setting))
        {
            setting = configuration.GetConnectionString(TablesConnectionName);
        }

        return string.IsNullOrWhiteSpace(setting) ? "UseDevelopmentStorage=true" : setting;
    }

    /// <summary>Each <see cref="StorageClientPolicy"/> registered in <paramref name="services"/>, on every try of every request.</summary>
    private static void AddStorageClientPolicies(ClientOptions options, IServiceProvider services)
    {
        foreach (var registered in services.GetServices<StorageClientPolicy>())
        {
            options.AddPolicy(registered.Policy, HttpPipelinePosition.PerRetry);
        }
    }
}
