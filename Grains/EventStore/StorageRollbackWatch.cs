using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Hosting;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Notices storage going back in time while this silo runs (a restore, an account failover to its
/// recovery point, the emulator killed between its saves). Every
/// <see cref="EventStoreOptions.RollbackWatchInterval"/> the silo replaces a row of its own in the
/// watch table, conditional on the ETag of its last write. Nobody else writes that row, so finding it
/// changed or gone means storage lost writes: the projections, which may count events the log no
/// longer holds, are re-derived from the log (<see cref="IProjectionControl.RequestRepair"/>) at once,
/// not only when an order that lost writes is next commanded (<see cref="Orders.OrderGrain"/>); and
/// this silo's order activations stop trusting their cached views (<see cref="StorageRollbacks"/>).
/// </summary>
/// <remarks>
/// The watch table sits beside the events table and is lost with it when the whole account goes
/// back; one conditional write per silo and interval, contention-free.
/// </remarks>
public sealed class StorageRollbackWatch(
    TableServiceClient service,
    IOptions<EventStoreOptions> options,
    StorageRollbacks rollbacks,
    IGrainFactory grains,
    TimeProvider time,
    ILogger<StorageRollbackWatch> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private const string PartitionKey = "silos";
    private const string BeatProperty = "Beat";

    private readonly BackgroundLoop background = new();
    private readonly string rowKey = Guid.NewGuid().ToString("N");
    private TableClient? table;

    /// <summary>The watch table of an events table.</summary>
    public static string TableNameFor(EventStoreOptions settings) => settings.TableName + "watch";

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StorageRollbackWatch), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.RollbackWatchInterval > TimeSpan.Zero)
        {
            table = service.GetTableClient(TableNameFor(options.Value));
            background.Start(RunAsync);
        }

        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!await background.StopAsync(cancellationToken) || table is null)
        {
            return;
        }

        try
        {
            await table.DeleteEntityAsync(PartitionKey, rowKey, ETag.All, cancellationToken);
        }
        catch (Exception exception) when (exception is RequestFailedException or OperationCanceledException)
        {
            // A crashed silo leaves its row too: one small row, never read again.
        }
    }

    private async Task RunAsync()
    {
        var interval = options.Value.RollbackWatchInterval;
        long beat = 0;
        ETag? written = null;
        var failing = false;
        while (!background.IsStopping)
        {
            try
            {
                var entity = new TableEntity(PartitionKey, rowKey) { [BeatProperty] = beat + 1, ["WrittenAt"] = time.GetUtcNow() };
                if (written is not { } etag)
                {
                    await table!.CreateIfNotExistsAsync(background.Stopping);
                    written = (await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, background.Stopping)).Headers.ETag;
                }
                else
                {
                    try
                    {
                        written = (await table!.UpdateEntityAsync(entity, etag, TableUpdateMode.Replace, background.Stopping)).Headers.ETag;
                    }
                    catch (RequestFailedException failed) when (failed.Status is 404 or 412)
                    {
                        written = await ResolveAsync(beat, entity);
                    }
                }

                beat++;
                failing = false;
            }
            catch (Exception exception) when (!background.IsStopping)
            {
                // Said once per outage: storage being down is reported where requests fail.
                logger.Log(failing ? LogLevel.Debug : LogLevel.Warning, exception,
                    "The storage rollback watch could not write its row; trying again every {Interval}.", interval);
                failing = true;
            }

            try
            {
                await Task.Delay(interval, time, background.Stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The row is not as this silo last wrote it. Either the SDK retried a write whose first attempt
    /// landed (the row holds the beat being written), or storage lost writes.
    /// </summary>
    private async Task<ETag?> ResolveAsync(long beat, TableEntity entity)
    {
        var stored = await table!.GetEntityIfExistsAsync<TableEntity>(PartitionKey, rowKey, cancellationToken: background.Stopping);
        if (stored.HasValue && stored.Value is { } row && row.GetInt64(BeatProperty) == beat + 1)
        {
            return row.ETag;
        }

        var found = stored.HasValue && stored.Value is { } older ? $"beat {older.GetInt64(BeatProperty)}" : "no row";
        var reason = $"Storage lost writes: this silo's rollback watch row held beat {beat} and now holds {found}.";
        logger.LogError("{Reason} Order activations of this silo read their logs again before answering; statistics are re-derived from the log.", reason);
        rollbacks.Noticed();

        // If this fails, the row stays as found and the next beat asks again.
        await grains.GetGrain<IProjectionControl>(0).RequestRepair(reason);
        return (await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, background.Stopping)).Headers.ETag;
    }
}
