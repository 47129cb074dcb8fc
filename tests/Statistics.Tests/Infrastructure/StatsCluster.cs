using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.TestingHost;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Silo;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Streams;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>The tables one deployment uses: events and projection state, under one Orleans service id.</summary>
public sealed record ClusterTables(string Events, string Statistics, string ServiceId)
{
    public static ClusterTables Unique(string prefix) =>
        new(TableNames.Unique(prefix + "ev"), TableNames.Unique(prefix + "st"), "stats-tests-" + Guid.NewGuid().ToString("N")[..8]);
}

/// <summary>
/// An in-process cluster (one silo unless asked for more) configured by <see cref="OrderFlowSiloExtensions.AddOrderFlow"/>
/// (memory streams, Azure Table grain storage for the projections), whose client can also publish
/// onto the order-event stream, plus an independent <see cref="TableEventStore"/> on its events table.
/// </summary>
public sealed class StatsCluster : IAsyncDisposable
{
    /// <summary>
    /// A <c>Statistics:FlushInterval</c> for tests in which nothing is flushed unless they flush it.
    /// Ticks fall on multiples of the interval of the clock (an hour's at every full hour, which a
    /// run would cross now and then); 30 days' stays within what a grain timer waits (some 49 days).
    /// </summary>
    public const string NoFlushTick = "30.00:00:00";

    private readonly InProcessTestCluster cluster;

    private StatsCluster(InProcessTestCluster cluster, string connectionString, ClusterTables tables, IConfiguration configuration)
    {
        this.cluster = cluster;
        Tables = tables;
        // The silo's event-store settings (table, change buckets), so that this writer writes as the silo's would.
        var storeOptions = Options.Create(configuration.GetSection(EventStoreOptions.Section).Get<EventStoreOptions>()!);
        Store = new TableEventStore(new TableServiceClient(connectionString), storeOptions, TimeProvider.System, NullLogger<TableEventStore>.Instance);
        Changes = new ChangeIndex(new TableServiceClient(connectionString), storeOptions, NullLogger<ChangeIndex>.Instance);
        Reader = new GrainStatsReader(cluster.Client);
    }

    public ClusterTables Tables { get; }

    /// <summary>Another writer and reader of the event log, independent of the silo.</summary>
    public TableEventStore Store { get; }

    /// <summary>The change index of the events table, as a writer sees it.</summary>
    public ChangeIndex Changes { get; }

    public IClusterClient Client => cluster.Client;

    /// <summary>The first silo's own services.</summary>
    public IServiceProvider SiloServices => cluster.Silos[0].ServiceProvider;

    public GrainStatsReader Reader { get; }

    /// <param name="settings">Configuration on top of the defaults (tables, no dashboard).</param>
    /// <param name="configureSilo">Anything a test adds to the silo (a grain call filter that injects faults).</param>
    public static async Task<StatsCluster> StartAsync(
        string connectionString, ClusterTables tables, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null,
        Action<ISiloBuilder>? configureSilo = null, int silos = 1)
    {
        var values = TestClusters.Settings(connectionString, tables.Events);
        values["Statistics:TableName"] = tables.Statistics;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        // Projection state is keyed by service id: a restarted deployment must keep it.
        var cluster = await TestClusters.StartAsync(values, cancellationToken, silos, tables.ServiceId, configureSilo: configureSilo);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var result = new StatsCluster(cluster, connectionString, tables, configuration);
        await result.Store.EnsureTableAsync(cancellationToken);
        return result;
    }

    public IOrderGrain Order(string orderId) => Client.GetGrain<IOrderGrain>(orderId);

    /// <summary>Sends the plan's commands to the order grain, one after the other, and checks each succeeded.</summary>
    public async Task ExecuteAsync(OrderPlan plan)
    {
        var grain = Order(plan.OrderId);
        foreach (var step in plan.Steps)
        {
            var command = plan.Command(step);
            var result = await grain.Execute(command, CommandMetadata.None);
            Assert.True(result.Error is null, $"{plan.OrderId} {step.Kind} at {step.At:O}: {result.Error}");
        }
    }

    /// <summary>Every order's events as stored, read back from the log by the independent store.</summary>
    public Task<Dictionary<string, List<StoredEvent>>> ReadLogAsync(CancellationToken cancellationToken) => EventLog.ReadAsync(Store, cancellationToken);

    /// <summary>The test's expectation: its own fold of every event in the log.</summary>
    public Task<Expected> ExpectedFromLogAsync(CancellationToken cancellationToken) => EventLog.ExpectedAsync(Store, cancellationToken);

    /// <summary>The envelopes of an order's stored events, built as the order grain builds them.</summary>
    public static List<OrderEventEnvelope> Envelopes(IReadOnlyList<StoredEvent> events) =>
        OrderEventEnvelopes.Build(
            new OrderState(),
            [.. events.Select(e => OrderEventSerializer.Deserialize(e.Type, e.SchemaVersion, e.Data))],
            events[0].Version,
            [.. events.Select(e => e.EventId)]);

    /// <summary>Publishes onto the real order-event stream of the envelope's shard, from the cluster client.</summary>
    public Task PublishAsync(OrderEventEnvelope envelope) =>
        Client.GetStreamProvider(OrderEventStreams.ProviderName)
            .GetStream<OrderEventEnvelope>(StreamId.Create(OrderEventStreams.Namespace, OrderEventStreams.StreamKey(OrderEventStreams.ShardOf(envelope.OrderId))))
            .OnNextAsync(envelope);

    /// <summary>Deactivates every idle activation in the cluster (projections flush on the way out).</summary>
    public Task CollectAllAsync() => Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    /// <summary>Deactivates one grain and waits until it is gone.</summary>
    public Task DeactivateAsync(IAddressable grain) => cluster.DeactivateAsync(grain);

    /// <summary>An order id that maps to <paramref name="shard"/>.</summary>
    public static string IdOnShard(string prefix, int shard)
    {
        for (var i = 0; ; i++)
        {
            var id = prefix + "-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (OrderEventStreams.ShardOf(id) == shard)
            {
                return id;
            }
        }
    }

    /// <summary>Stops the silo without a graceful shutdown: nothing gets to flush on the way out.</summary>
    public Task KillSiloAsync() => cluster.KillSiloAsync(cluster.Silos[0]);

    /// <summary>The silos running, first started first.</summary>
    public IReadOnlyList<InProcessSiloHandle> Silos => cluster.Silos;

    /// <summary>Stops one silo without a graceful shutdown (see <see cref="KillSiloAsync()"/>).</summary>
    public Task KillSiloAsync(InProcessSiloHandle silo) => cluster.KillSiloAsync(silo);

    public async ValueTask DisposeAsync() => await cluster.DisposeAsync();
}
