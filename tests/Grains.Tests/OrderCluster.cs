using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Silo;
using OrderFlow.Streams;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// A one-silo in-process Orleans cluster configured exactly as a real silo is
/// (<see cref="OrderFlowSiloExtensions.AddOrderFlow"/>), on its own events table, plus direct
/// access to that table (a separate <see cref="TableEventStore"/> and a raw <see cref="TableClient"/>)
/// so that tests can check what was, and was not, written.
/// </summary>
public sealed class OrderCluster : IAsyncDisposable
{
    public const int SnapshotInterval = 3;

    private readonly InProcessTestCluster cluster;

    private OrderCluster(InProcessTestCluster cluster, string tableName, string connectionString, RequestCounter? requests)
    {
        this.cluster = cluster;
        TableName = tableName;
        Requests = requests;
        var service = new TableServiceClient(connectionString);
        Service = service;
        Table = service.GetTableClient(tableName);
        Store = new TableEventStore(
            service,
            Options.Create(new EventStoreOptions { TableName = tableName, SnapshotInterval = SnapshotInterval }),
            TimeProvider.System,
            NullLogger<TableEventStore>.Instance);
    }

    public string TableName { get; }

    /// <summary>Another writer on the same event log, independent of the silo.</summary>
    public TableEventStore Store { get; }

    public TableClient Table { get; }

    /// <summary>The storage account of <see cref="Table"/>: the other tables derived from its name are here.</summary>
    public TableServiceClient Service { get; }

    /// <summary>Every HTTP request the silo's table client sends (null when the product's own client is used).</summary>
    public RequestCounter? Requests { get; }

    public IClusterClient Client => cluster.Client;

    /// <summary>The silo's own services (the cluster has one silo).</summary>
    public IServiceProvider SiloServices => cluster.Silos[0].ServiceProvider;

    /// <summary>
    /// Starts a cluster on <paramref name="connectionString"/>. With <paramref name="countRequests"/>,
    /// the silo's <see cref="TableServiceClient"/> is built here (same retry settings as the product's,
    /// then <paramref name="tuneClient"/>) with a policy that counts requests; otherwise the product's
    /// own client factory (<see cref="OrderFlowSiloExtensions.CreateTableServiceClient"/>) is used,
    /// with <paramref name="storagePolicy"/> on every try of every request.
    /// </summary>
    public static async Task<OrderCluster> StartAsync(
        string connectionString,
        string tableName,
        bool countRequests,
        CancellationToken cancellationToken,
        Action<TableClientOptions>? tuneClient = null,
        StorageClientPolicy? storagePolicy = null)
    {
        var settings = TestClusters.Settings(connectionString, tableName);
        settings["EventStore:SnapshotInterval"] = SnapshotInterval.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // The silo's storage rollback watch writes every second: it would be counted among a command's requests.
        settings["EventStore:RollbackWatchInterval"] = "00:00:00";

        var requests = countRequests ? new RequestCounter() : null;
        var cluster = await TestClusters.StartAsync(settings, cancellationToken, replaceServices: services =>
        {
            if (requests is not null)
            {
                services.AddSingleton(_ => CountingServiceClient(connectionString, requests, tuneClient));
            }

            if (storagePolicy is not null)
            {
                services.AddSingleton(storagePolicy);
            }
        });

        var result = new OrderCluster(cluster, tableName, connectionString, requests);
        await result.Store.EnsureTableAsync(cancellationToken);
        return result;
    }

    public IOrderGrain Grain(string orderId) => Client.GetGrain<IOrderGrain>(orderId);

    /// <summary>Deactivates the order's activation (if any) and waits until it is gone.</summary>
    public Task DeactivateAsync(string orderId) => cluster.DeactivateAsync(Grain(orderId));

    /// <summary>Deactivates <paramref name="grain"/>'s activation (if any) and waits until it is gone.</summary>
    public Task DeactivateAsync(IAddressable grain) => cluster.DeactivateAsync(grain);

    /// <summary>Every row of the order's partition (events, snapshots, idempotency records), in RowKey order.</summary>
    public async Task<List<TableEntity>> RowsAsync(string orderId, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(orderId)}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The RowKeys of the order's partition, with their ETags: equal lists mean nothing was written.</summary>
    public async Task<List<string>> RowFingerprintAsync(string orderId, CancellationToken cancellationToken) =>
        [.. (await RowsAsync(orderId, cancellationToken)).Select(r => r.RowKey + "@" + r.ETag)];

    /// <summary>The order's events as stored, read by a store instance independent of the silo.</summary>
    public Task<IReadOnlyList<StoredEvent>> EventsAsync(string orderId, CancellationToken cancellationToken) =>
        Store.ReadEventsAsync(orderId, 1, 10_000, cancellationToken);

    /// <summary>The state folded from every stored event, ignoring snapshots.</summary>
    public static OrderState Fold(IEnumerable<StoredEvent> events)
    {
        var state = new OrderState();
        foreach (var stored in events)
        {
            state.Apply(OrderEventSerializer.Deserialize(stored.Type, stored.SchemaVersion, stored.Data));
        }

        return state;
    }

    public async ValueTask DisposeAsync() => await cluster.DisposeAsync();

    private static TableServiceClient CountingServiceClient(string connectionString, RequestCounter requests, Action<TableClientOptions>? tune)
    {
        var options = new TableClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        tune?.Invoke(options);
        options.AddPolicy(requests, HttpPipelinePosition.PerRetry);
        return new TableServiceClient(connectionString, options);
    }
}

/// <summary>One cluster per test class, on the assembly's Azurite, with its own events table.</summary>
public sealed class OrderClusterFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private OrderCluster? cluster;

    public OrderCluster Cluster => cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public async ValueTask InitializeAsync() =>
        cluster = await OrderCluster.StartAsync(azurite.ConnectionString, TableNames.Unique("grains"), countRequests: true, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}
