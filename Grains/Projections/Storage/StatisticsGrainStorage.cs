using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Statistics;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// The grain storage of the projections (<see cref="StatisticsOptions.StorageName"/>): each grain's
/// state is one row of the table <see cref="StatisticsOptions.TableName"/> (a journaled state's
/// snapshot, its journal rows and, beyond one entity, its spill rows beside it), keyed by
/// <see cref="ProjectionStateKeys"/> so that a partition holds many grains of one generation,
/// and written by group commit (<see cref="PartitionGroupCommit"/>): the flushes of
/// many grains cost one request per partition, not one each. The state is stored as Orleans'
/// Azure Table grain storage stored it (binary properties Data, Data1, ..., in Orleans' binary
/// format, JSON read as a fallback); a write conditional on an ETag that no longer holds fails
/// with <see cref="InconsistentStateException"/>, as there.
/// </summary>
/// <remarks>
/// Every state row names the activation that wrote it last (<see cref="WriterProperty"/>), and a
/// journal row lands only with its snapshot row renamed so, conditional on its ETag. A conflict is
/// either that activation's own write, landed although its answer was lost, or another
/// activation's: the read that follows (<c>OwnStateWrites</c>) tells the two apart and fails the
/// second with <see cref="ProjectionSupersededException"/>, so that no activation writes over
/// what another counted.
/// </remarks>
public sealed partial class StatisticsGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private const int DataChunkBytes = TableLimits.MaxBinaryPropertyBytes;

    /// <summary>Data properties per row: 15 of 64 KiB leave room in the 1 MiB entity for its keys (as Orleans' table storage).</summary>
    private const int MaxDataChunks = 15;

    /// <summary>The most serialized data one row holds.</summary>
    private const int MaxDataBytes = DataChunkBytes * MaxDataChunks;

    private const string DataProperty = "Data";

    /// <summary>A state row's property: the activation that wrote it last (<see cref="WriterOf"/>).</summary>
    private const string WriterProperty = "Writer";

    /// <summary>
    /// Each activation's identity as a writer, by its grain state: Orleans hands the storage the
    /// same <see cref="IGrainState{T}"/> for every read and write of one state of one activation.
    /// </summary>
    private readonly ConditionalWeakTable<object, string> writers = new();

    private readonly string name;
    private readonly TableClient table;
    private readonly string serviceId;
    private readonly IGrainStorageSerializer serializer;
    private readonly IActivatorProvider activators;
    private readonly TimeSpan deadline;
    private readonly PartitionGroupCommit writes;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public StatisticsGrainStorage(
        string name, TableClient table, string serviceId, IGrainStorageSerializer serializer, IActivatorProvider activators,
        TimeSpan linger, TimeSpan deadline, TimeProvider time, ILogger<StatisticsGrainStorage> logger)
    {
        this.name = name;
        this.table = table;
        this.serviceId = serviceId;
        this.serializer = serializer;
        this.activators = activators;
        this.deadline = deadline;
        this.time = time;
        this.logger = logger;
        writes = new PartitionGroupCommit(table, linger, deadline, logger);
    }

    /// <summary>The storage named <paramref name="name"/> as a silo configures it (<c>AddGrainStorage</c>).</summary>
    public static StatisticsGrainStorage Create(IServiceProvider services, string name)
    {
        var statistics = services.GetRequiredService<IOptions<StatisticsOptions>>().Value;

        // A projection's state is one table entity (at most 1 MiB). Orleans' default grain-state
        // format is JSON with a type name and a reference id on every object: a day of 5,000 orders
        // on one shard took 2.0 MiB as JSON (unwritable) and about 440 KiB in Orleans' binary format
        // (version tolerant through [Id] and [Alias]). State written as JSON is still read, by the fallback.
        var serializer = new GrainStorageSerializer(
            new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
            services.GetRequiredService<IGrainStorageSerializer>());
        return new StatisticsGrainStorage(
            name,
            services.GetRequiredService<TableServiceClient>().GetTableClient(statistics.TableName),
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            serializer,
            services.GetRequiredService<IActivatorProvider>(),
            statistics.GroupCommitLinger,
            services.GetRequiredService<IOptions<EventStoreOptions>>().Value.OperationTimeout,
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILogger<StatisticsGrainStorage>>());
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        if (IsJournaled<T>())
        {
            await ReadJournaledAsync(stateName, grainId, grainState, cancellationToken);
            return;
        }

        var row = await ReadRowAsync(ProjectionStateKeys.PartitionKey(serviceId, grainId), ProjectionStateKeys.RowKey(grainId, stateName), cancellationToken);
        var legacy = false;
        if (row is null && !ProjectionStateKeys.BelongsToGeneration(grainId))
        {
            // Written by an earlier build (layout 4 and before): found once, so that the projection
            // control knows the generation it kept is of an older layout and rebuilds; written here from now on.
            row = await ReadRowAsync(ProjectionStateKeys.LegacyPartitionKey(serviceId, grainId.ToString()), ProjectionStateKeys.LegacyRowKey(stateName), cancellationToken);
            legacy = row is not null;
        }

        ThrowIfSuperseded(legacy ? null : row, grainState, grainState.ETag, grainId, stateName);
        var state = row is null ? default : Deserialize<T>(row);
        grainState.State = state ?? activators.GetActivator<T>().Create();
        grainState.RecordExists = state is not null;
        grainState.ETag = row is null || legacy ? null : row.ETag.ToString();
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        if (grainState.State is IJournaledProjectionState journaled)
        {
            await WriteJournaledAsync(stateName, grainId, grainState, journaled, cancellationToken);
            return;
        }

        var data = SerializeWithin(grainState.State);
        var entity = DataRow(ProjectionStateKeys.PartitionKey(serviceId, grainId), ProjectionStateKeys.RowKey(grainId, stateName), data);
        entity[WriterProperty] = WriterOf(grainState);
        var etag = grainState.ETag is null ? default : new ETag(grainState.ETag);
        var kind = grainState.ETag is null ? TableTransactionActionType.Add : TableTransactionActionType.UpdateReplace;
        var written = await writes.SubmitAsync(new PendingRowChange(kind, entity, etag, EstimatedBytes(entity, data.Length), Describe(grainId, stateName)), cancellationToken);
        grainState.ETag = written?.ToString();
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <summary>Deletes the row (conditional on its ETag); a state never written has no row to delete.</summary>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        if (IsJournaled<T>() && JournalPosition.Parse(grainState.ETag) is { } position)
        {
            var partitionKey = ProjectionStateKeys.PartitionKey(serviceId, grainId);
            var rowKey = ProjectionStateKeys.RowKey(grainId, stateName);
            if (position.HasSnapshot)
            {
                await writes.SubmitAsync(
                    new PendingRowChange(TableTransactionActionType.Delete, new TableEntity(partitionKey, rowKey), new ETag(position.SnapshotETag), EstimatedBytes(partitionKey, rowKey, 0), Describe(grainId, stateName)),
                    cancellationToken);
            }

            await DeleteRowsAsync(partitionKey, ObsoleteRowKeys(rowKey, position, LongRange(position.FirstSequence, position.NextSequence)), Describe(grainId, stateName));
        }
        else if (grainState.ETag is { } etag)
        {
            var entity = new TableEntity(ProjectionStateKeys.PartitionKey(serviceId, grainId), ProjectionStateKeys.RowKey(grainId, stateName));
            await writes.SubmitAsync(
                new PendingRowChange(TableTransactionActionType.Delete, entity, new ETag(etag), EstimatedBytes(entity, 0), Describe(grainId, stateName)),
                cancellationToken);
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = activators.GetActivator<T>().Create();
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe($"{nameof(StatisticsGrainStorage)}-{name}", ServiceLifecycleStage.ApplicationServices, EnsureTableAsync);

    /// <summary>Creates the table if it does not exist (as Orleans' table storage did when a silo starts).</summary>
    public Task EnsureTableAsync(CancellationToken cancellationToken) =>
        StorageErrors.Translate(StoreDescription.Statistics, table.Name, deadline, token => table.CreateIfNotExistsAsync(token), cancellationToken);

    private Task<TableEntity?> ReadRowAsync(string partitionKey, string rowKey, CancellationToken cancellationToken) =>
        StorageErrors.Translate(StoreDescription.Statistics, partitionKey, deadline, async token =>
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: token);
            return row.HasValue ? row.Value : null;
        }, cancellationToken);

    /// <summary>This activation's identity as the writer of <paramref name="grainState"/>, made at its first read or write.</summary>
    private string WriterOf(object grainState) => writers.GetValue(grainState, static _ => Guid.NewGuid().ToString("N"));

    /// <summary>
    /// At a read again (after a conflict), finds whether the row is still this activation's: a row
    /// that changed since this activation last read or wrote it (<paramref name="knownETag"/>) and
    /// that another activation wrote last fails the read before anything is loaded, so that it cannot
    /// write over what that activation wrote. At its first read, makes the activation known as a writer.
    /// </summary>
    /// <exception cref="ProjectionSupersededException">Another activation (or a build that names no writer) wrote the row since.</exception>
    private void ThrowIfSuperseded(TableEntity? row, object grainState, string? knownETag, GrainId grainId, string stateName)
    {
        if (!writers.TryGetValue(grainState, out var writer))
        {
            WriterOf(grainState);
            return;
        }

        if (row is not null && row.ETag.ToString() != knownETag && row.GetString(WriterProperty) != writer)
        {
            throw new ProjectionSupersededException(
                $"Another activation of {Describe(grainId, stateName)} wrote its state since this one last read or wrote it; this one writes no more and deactivates.");
        }
    }

    private static bool IsJournaled<T>() => typeof(IJournaledProjectionState).IsAssignableFrom(typeof(T));

    private T? Deserialize<T>(TableEntity row) => DeserializeRows<T>([row]).State;

    /// <summary>The state that <paramref name="rows"/> hold in their data properties, in order, with its bytes (none for no data).</summary>
    private (T? State, long Bytes) DeserializeRows<T>(IReadOnlyList<TableEntity> rows)
    {
        using var data = new MemoryStream();
        foreach (var chunk in rows.SelectMany(DataChunks))
        {
            data.Write(chunk);
        }

        return (data.Length == 0 ? default : serializer.Deserialize<T>(new BinaryData(data.GetBuffer().AsMemory(0, (int)data.Length))), data.Length);
    }

    private static string DataPropertyName(int chunk) =>
        chunk == 0 ? DataProperty : DataProperty + chunk.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The entity's share of a transaction's body: its binary data as base64, its keys, and room for property names and framing.</summary>
    private static int EstimatedBytes(TableEntity entity, int dataBytes) => EstimatedBytes(entity.PartitionKey, entity.RowKey, dataBytes);

    private static int EstimatedBytes(string partitionKey, string rowKey, int dataBytes) =>
        (dataBytes + 2) / 3 * 4 + 2 * (partitionKey.Length + rowKey.Length) + 1024;

    /// <summary>Serialized, within <paramref name="maxBytes"/> (by default what one row holds).</summary>
    private ReadOnlyMemory<byte> SerializeWithin<TValue>(TValue value, int maxBytes = MaxDataBytes)
    {
        var data = serializer.Serialize(value).ToMemory();
        if (data.Length > maxBytes)
        {
            // Orleans' table storage's words, which ProjectionStateTooLargeException.IsCause recognises.
            throw new ArgumentOutOfRangeException(nameof(value), $"Data too large to write to Azure table. Size={data.Length} MaxSize={maxBytes}");
        }

        return data;
    }

    /// <summary>A row holding <paramref name="data"/> in binary properties of at most 64 KiB each.</summary>
    private static TableEntity DataRow(string partitionKey, string rowKey, ReadOnlyMemory<byte> data)
    {
        var entity = new TableEntity(partitionKey, rowKey);
        var chunk = 0;
        for (var start = 0; start < data.Length; start += DataChunkBytes, chunk++)
        {
            entity[DataPropertyName(chunk)] = data.Slice(start, Math.Min(DataChunkBytes, data.Length - start)).ToArray();
        }

        return entity;
    }

    private static int DataLength(TableEntity row) => DataChunks(row).Sum(chunk => chunk.Length);

    /// <summary>The row's binary data properties in order, as <see cref="DataRow"/> wrote them.</summary>
    private static IEnumerable<byte[]> DataChunks(TableEntity row)
    {
        for (var chunk = 0; chunk < MaxDataChunks && row.TryGetValue(DataPropertyName(chunk), out var value); chunk++)
        {
            if (value is byte[] bytes)
            {
                yield return bytes;
            }
        }
    }

    private static string Describe(GrainId grainId, string stateName) => $"{grainId} ({stateName})";
}
