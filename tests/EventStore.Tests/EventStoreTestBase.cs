using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Testing;

[assembly: AssemblyFixture(typeof(AzuriteFixture))]

namespace OrderFlow.EventStore.Tests;

/// <summary>Each test class gets its own table in the assembly's Azurite.</summary>
public abstract class EventStoreTestBase(AzuriteFixture azurite)
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);

    protected string TableName { get; } = TableNames.Unique("events");

    protected TableEventStore Store => field ??= NewStore(azurite.ConnectionString, TableName);

    protected TableClient Table => new TableServiceClient(azurite.ConnectionString).GetTableClient(TableName);

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TableEventStore NewStore(string connectionString, string tableName, ILogger<TableEventStore>? logger = null) => new(
        new TableServiceClient(connectionString),
        Options.Create(new EventStoreOptions { TableName = tableName }),
        TimeProvider.System,
        logger ?? NullLogger<TableEventStore>.Instance);

    /// <summary>A store of this class's table that logs to <paramref name="logger"/>.</summary>
    protected TableEventStore NewStore(ILogger<TableEventStore> logger) => NewStore(azurite.ConnectionString, TableName, logger);

    protected static EventToAppend Event(int n, string data = "{}", DateTimeOffset? occurredAt = null) =>
        new(Guid.NewGuid(), "TestEvent", 1, occurredAt ?? T0.AddMinutes(n), $"corr-{n}", $"cause-{n}", data);

    /// <summary>Every row of a partition, with every property, for before/after comparisons.</summary>
    protected async Task<List<string>> RowsAsync(string streamId)
    {
        await Store.EnsureTableAsync(Cancel);
        var rows = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(streamId)}");
        await foreach (var entity in Table.QueryAsync<TableEntity>(filter, cancellationToken: Cancel))
        {
            rows.Add(string.Join("|", entity.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")));
        }

        return rows;
    }
}
