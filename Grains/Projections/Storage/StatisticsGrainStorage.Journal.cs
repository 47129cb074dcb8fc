using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using OrderFlow.Grains.EventStore;
using Orleans.Runtime;
using Orleans.Storage;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// The journaled layout (<see cref="IJournaledProjectionState"/>): a snapshot row as every state
/// has, with <see cref="JournalSequenceProperty"/>, and journal rows keyed by the snapshot's RowKey,
/// '!' and a zero-padded sequence number, in the snapshot's partition (so that they share its group
/// commits). A write adds one journal row while the journal since the snapshot stays smaller than
/// the snapshot and within <see cref="MaxJournalRows"/>; otherwise it writes the snapshot whole,
/// and then deletes the rows it made obsolete (which join the partition's next transaction; the
/// write does not wait for them). A
/// load reads the snapshot and its journal in one range query and applies the journal rows from
/// the snapshot's sequence on.
/// </summary>
/// <remarks>
/// A journal row is applied only if it was written after the snapshot, by a writer that had that
/// snapshot: it carries the snapshot's sequence (<see cref="FollowsProperty"/>). A journal write
/// whose outcome is unknown (it timed out, and may still land) gives up its sequence number, and
/// every snapshot starts its journal one number past the next one. A write may still land after
/// its activation is gone and the next one has loaded, so an activation's first write is a
/// snapshot, conditional on the snapshot it loaded: a late snapshot of the one before then fails,
/// and the late journal rows of the one before follow the older snapshot and are not applied, so
/// their older bookkeeping never replaces the new activation's. A snapshot whose outcome is
/// unknown is followed by a snapshot, not a journal row, for the same reason.
/// </remarks>
public sealed partial class StatisticsGrainStorage
{
    /// <summary>The snapshot's property: the sequence number of the first journal row that follows it; rows below are obsolete.</summary>
    private const string JournalSequenceProperty = "JournalSequence";

    /// <summary>A journal row's property: the <see cref="JournalSequenceProperty"/> of the snapshot its writer had; a row of another snapshot is not applied (rows written before it, without it, are applied by number).</summary>
    private const string FollowsProperty = "Follows";

    /// <summary>Bounds what a load reads and applies, and the deletions a snapshot leaves.</summary>
    public const int MaxJournalRows = 64;

    /// <summary>'!' sorts below every character an encoded key holds (<see cref="KeyEncoding"/>), so no other grain's row falls in a journal's range.</summary>
    private const char JournalSeparator = '!';

    public static string JournalRowKey(string snapshotRowKey, long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{snapshotRowKey}{JournalSeparator}{sequence:D10}");

    private async Task ReadJournaledAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var partitionKey = ProjectionStateKeys.PartitionKey(serviceId, grainId);
        var rowKey = ProjectionStateKeys.RowKey(grainId, stateName);
        var rows = await StorageErrors.Translate(StoreDescription.Statistics, partitionKey, deadline, async token =>
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {rowKey} and RowKey le {JournalRowKey(rowKey, 9_999_999_999)}");
            var found = new List<TableEntity>();
            await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: token))
            {
                found.Add(row);
            }

            return found;
        }, cancellationToken);

        var snapshot = rows.FirstOrDefault(row => row.RowKey == rowKey);
        var journal = rows.Where(row => row.RowKey != rowKey)
            .Select(row => (Sequence: long.Parse(row.RowKey.AsSpan(rowKey.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture), Follows: row.GetInt64(FollowsProperty), Row: row))
            .OrderBy(entry => entry.Sequence)
            .ToList();
        var firstFollowing = snapshot?.GetInt64(JournalSequenceProperty) ?? 1;
        var next = journal.Count > 0 ? Math.Max(firstFollowing, journal[^1].Sequence + 1) : firstFollowing;
        var state = snapshot is null ? default : Deserialize<T>(snapshot);

        // Rows no load applies (below the snapshot's journal, or following an older snapshot, or all of
        // them without a snapshot: left by a state cleared meanwhile) are deleted as found, not by number
        // from the lowest to the next snapshot's: numbers long gone would each cost the partition a
        // refused transaction. A row following a newer snapshot than this load read is left alone.
        var obsolete = journal.Where(entry => state is null || entry.Sequence < firstFollowing || entry.Follows < firstFollowing).Select(entry => entry.Sequence).ToList();
        _ = DeleteJournalAsync(partitionKey, rowKey, obsolete, Describe(grainId, stateName));
        var firstLive = state is null ? next : firstFollowing;

        if (state is null)
        {
            // The next rows follow the obsolete ones; a row without data is replaced by the next write.
            grainState.State = activators.GetActivator<T>().Create();
            grainState.RecordExists = false;
            grainState.ETag = new JournalPosition(snapshot?.ETag.ToString() ?? "", next, firstLive, 0, 0, 0).Format();
            return;
        }

        long journalBytes = 0;
        foreach (var (_, _, row) in journal.Where(entry => entry.Sequence >= firstFollowing && (entry.Follows ?? firstFollowing) == firstFollowing))
        {
            if (Deserialize<ProjectionJournalEntry>(row) is { } entry)
            {
                ((IJournaledProjectionState)state).Apply(entry);
            }

            journalBytes += DataLength(row);
        }

        grainState.State = state;
        grainState.RecordExists = true;

        // The journal counts as full: this activation's first write is a snapshot (see the remarks).
        grainState.ETag = new JournalPosition(snapshot!.ETag.ToString(), next, firstLive, MaxJournalRows, journalBytes, DataLength(snapshot)).Format();
    }

    private async Task WriteJournaledAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, IJournaledProjectionState journaled, CancellationToken cancellationToken)
    {
        var partitionKey = ProjectionStateKeys.PartitionKey(serviceId, grainId);
        var rowKey = ProjectionStateKeys.RowKey(grainId, stateName);
        var position = JournalPosition.Parse(grainState.ETag) ?? new JournalPosition(grainState.ETag ?? "", 1, 1, 0, 0, 0);

        // Taken and serialized in the same turn of the grain as its state: what is counted while the write is under way goes with the next.
        var changes = journaled.TakeChanges(time.GetUtcNow());
        if (position.HasSnapshot && position.JournalRows < MaxJournalRows && !changes.Overflowed
            && position.JournalBytes + changes.MinimumBytes <= position.SnapshotBytes)
        {
            var entry = serializer.Serialize(changes).ToMemory();
            if (position.JournalBytes + entry.Length <= position.SnapshotBytes && entry.Length <= MaxDataBytes)
            {
                var journalRow = DataRow(partitionKey, JournalRowKey(rowKey, position.NextSequence), entry);
                journalRow[FollowsProperty] = position.FirstSequence;
                var after = position with
                {
                    NextSequence = position.NextSequence + 1,
                    JournalRows = position.JournalRows + 1,
                    JournalBytes = position.JournalBytes + entry.Length,
                };
                try
                {
                    await writes.SubmitAsync(
                        new PendingRowChange(TableTransactionActionType.Add, journalRow, default, EstimatedBytes(journalRow, entry.Length), Describe(grainId, stateName)),
                        cancellationToken);
                }
                catch (Exception exception)
                {
                    journaled.ReturnChanges(changes);
                    if (exception is not InconsistentStateException)
                    {
                        // It may still land: its number is not used again (an ETag conflict reads the rows again instead).
                        grainState.ETag = after.Format();
                    }

                    throw;
                }

                grainState.ETag = after.Format();
                grainState.RecordExists = true;
                return;
            }
        }

        // The snapshot holds every change counted so far, those just taken included; its journal
        // starts one number past the next, which a journal write still on its way may take.
        var following = position.NextSequence + 1;
        ReadOnlyMemory<byte> data;
        try
        {
            data = SerializeWithin(grainState.State);
        }
        catch
        {
            journaled.ReturnChanges(changes);
            throw;
        }

        try
        {
            var snapshot = DataRow(partitionKey, rowKey, data);
            snapshot[JournalSequenceProperty] = following;
            var kind = position.HasSnapshot ? TableTransactionActionType.UpdateReplace : TableTransactionActionType.Add;
            var written = await writes.SubmitAsync(
                new PendingRowChange(kind, snapshot, position.HasSnapshot ? new ETag(position.SnapshotETag) : default, EstimatedBytes(snapshot, data.Length), Describe(grainId, stateName)),
                cancellationToken);
            grainState.ETag = new JournalPosition(written?.ToString() ?? "", following, following, 0, 0, data.Length).Format();
            grainState.RecordExists = true;
        }
        catch
        {
            // It may have landed, its journal starting at `following`: the next write is a snapshot
            // again (refused as a conflict if this one landed; the re-read sets the position anew),
            // since a journal row would follow the snapshot this writer had, not the one that landed.
            journaled.ReturnChanges(changes);
            grainState.ETag = (position with { NextSequence = following, JournalRows = MaxJournalRows }).Format();
            throw;
        }

        // Not awaited: the write is done, and a flush (a rebuild's, a day's before its push) need not wait for the cleanup.
        _ = DeleteJournalAsync(partitionKey, rowKey, LongRange(position.FirstSequence, position.NextSequence), Describe(grainId, stateName));
    }

    private static IEnumerable<long> LongRange(long from, long until)
    {
        for (var sequence = from; sequence < until; sequence++)
        {
            yield return sequence;
        }
    }

    /// <summary>
    /// Deletes the journal rows numbered <paramref name="sequences"/>, which a snapshot made obsolete.
    /// Best effort: a row left behind is skipped by every load (it is below the snapshot's sequence)
    /// and deleted by the next activation's load.
    /// </summary>
    private async Task DeleteJournalAsync(string partitionKey, string rowKey, IEnumerable<long> sequences, string grain)
    {
        var deletions = new List<Task>();
        foreach (var sequence in sequences)
        {
            var row = new TableEntity(partitionKey, JournalRowKey(rowKey, sequence));
            deletions.Add(writes.SubmitAsync(new PendingRowChange(TableTransactionActionType.Delete, row, ETag.All, EstimatedBytes(row, 0), grain), CancellationToken.None));
        }

        if (deletions.Count == 0)
        {
            return;
        }

        try
        {
            await Task.WhenAll(deletions);
        }
        catch (Exception exception)
        {
            logger.LogDebug(exception, "Obsolete journal rows of {Grain} are left for its next load.", grain);
        }
    }
}
