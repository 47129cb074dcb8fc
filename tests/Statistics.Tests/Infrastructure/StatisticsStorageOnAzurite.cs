using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Statistics;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Testing;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>The statistics grain storage alone, on its own table of Azurite, its requests counted by a pipeline policy on its own client.</summary>
internal static class StatisticsStorageOnAzurite
{
    public const string ServiceId = "orderflow";

    public static readonly IServiceProvider Serialization = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(StatsCatalogState).Assembly))
        .BuildServiceProvider();

    /// <param name="fault">A policy the storage's requests also go through, after their retries (one that injects faults).</param>
    /// <param name="logger">Where the storage logs (none by default).</param>
    public static async Task<(StatisticsGrainStorage Storage, RequestCounter Requests, TableClient Table)> StartAsync(
        AzuriteFixture azurite, string tablePrefix, TimeSpan linger, CancellationToken ct, HttpPipelinePolicy? fault = null, ILogger<StatisticsGrainStorage>? logger = null)
    {
        var requests = new RequestCounter();
        var name = TableNames.Unique(tablePrefix);
        var options = CountingOptions(requests);
        if (fault is not null)
        {
            options.AddPolicy(fault, HttpPipelinePosition.PerCall);
        }

        var storage = new StatisticsGrainStorage(
            StatisticsOptions.StorageName,
            new TableServiceClient(azurite.ConnectionString, options).GetTableClient(name),
            ServiceId,
            new OrleansGrainStorageSerializer(Serialization.GetRequiredService<Serializer>()),
            Serialization.GetRequiredService<IActivatorProvider>(),
            linger,
            TimeSpan.FromSeconds(60),
            TimeProvider.System,
            logger ?? NullLogger<StatisticsGrainStorage>.Instance);
        await storage.EnsureTableAsync(ct);
        requests.Reset();
        return (storage, requests, new TableClient(azurite.ConnectionString, name));
    }

    public static TableClientOptions CountingOptions(RequestCounter requests)
    {
        var options = new TableClientOptions();
        options.AddPolicy(requests, HttpPipelinePosition.PerCall);
        return options;
    }
}
