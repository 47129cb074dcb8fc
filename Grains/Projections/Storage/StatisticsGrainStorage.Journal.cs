using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Telemetry;
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
/// the snapshot's sequence on. A snapshot longer than <see cref="MaxSnapshotRowBytes"/> spills:
/// its data goes first to spill rows (keyed by the snapshot's RowKey, '!s', its sequence and the
/// row's index; up to <see cref="MaxSpillRows"/>, in transactions of their own), then the snapshot
/// row names them (<see cref="SpillRowsProperty"/>); so a state outgrows one entity's 1 MiB without
/// a write that is not all or none (spill rows no snapshot names are skipped, and deleted once a
/// later snapshot makes them obsolete).
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
/// unknown is followed by a snapshot, not a journal row, for the same reason. A journal row goes
/// with a merge of its snapshot row (its writer, <see cref="WriterProperty"/>) conditional on the
/// snapshot's ETag, in one transaction: it lands only while the snapshot is as its writer left it,
/// so the journal rows of an activation whose snapshot another one replaced fail, where they once
/// landed beside it, unapplied, and their writer took its counts for stored.
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

    /// <summary>After <see cref="JournalSeparator"/>, marks a spill row; it sorts after the digits of every journal row.</summary>
    private const char SpillMark = 's';

    /// <summary>The snapshot's property when spill rows hold its data: how many.</summary>
    private const string SpillRowsProperty = "SpillRows";

    /// <summary>
    /// The most of a snapshot's data its own row holds, and each spill row and journal row: 10
    /// properties of 64 KiB. Azurite counts an entity as its JSON, binary as base64: 853 KiB of the
    /// 1 MiB entity (Azure counts binary as is, and took rows of up to <see cref="MaxDataBytes"/>).
    /// </summary>
    public const int MaxSnapshotRowBytes = 10 * DataChunkBytes;

    /// <summary>Bounds a snapshot (7.5 MiB of data); a load reads it and at most as much journal.</summary>
    public const int MaxSpillRows = 12;

    /// <summary>The most a journaled state may take (<see cref="MaxSpillRows"/> rows of <see cref="MaxSnapshotRowBytes"/>).</summary>
    public const int MaxJournaledStateBytes = MaxSpillRows * MaxSnapshotRowBytes;

    /// <summary>A snapshot past this warns, once as it passes: its grain nears the most a state may take.</summary>
    public const int NearLimitBytes = MaxJournaledStateBytes / 4 * 3;

    /// <summary>Spill rows per transaction: three in base64 stay within the 4 MiB body.</summary>
    private const int SpillRowsPerTransaction = 3;

    /// <summary>
    /// The Data of a snapshot row whose data spilled: no serialized state, so that a build from before
    /// spill rows fails to load it (and says so) instead of taking the state for empty.
    /// </summary>
    private static readonly byte[] SpilledMarker = "\0orderflow: this snapshot's data is in its spill rows"u8.ToArray();

    public static string JournalRowKey(string snapshotRowKey, long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{snapshotRowKey}{JournalSeparator}{sequence:D10}");

    /// <summary>The <paramref name="index"/>-th spill row of the snapshot whose journal starts at <paramref name="sequence"/>.</summary>
    public static string SpillRowKey(string snapshotRowKey, long sequence, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{snapshotRowKey}{JournalSeparator}{SpillMark}{sequence:D10}.{index:D2}");

    private async Task ReadJournaledAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var partitionKey = ProjectionStateKeys.PartitionKey(serviceId, grainId);
        var rowKey = ProjectionStateKeys.RowKey(grainId, stateName);
        var rows = await ReadRowsOfAsync(partitionKey, rowKey, cancellationToken);
        if (SnapshotDataRows(rows, rowKey) is null)
        {
            // A query may take several pages, between which another activation's snapshot may have
            // replaced the one read and deleted its spill rows: read again before calling them lost.
            rows = await ReadRowsOfAsync(partitionKey, rowKey, cancellationToken);
        }

        var snapshot = rows.FirstOrDefault(row => row.RowKey == rowKey);
        ThrowIfSuperseded(snapshot, grainState, JournalPosition.Parse(grainState.ETag)?.SnapshotETag, grainId, stateName);
        var spilled = rows.Where(row => IsSpillRow(row.RowKey, rowKey)).ToList();
        var journal = rows.Where(row => row.RowKey != rowKey && !IsSpillRow(row.RowKey, rowKey))
            .Select(row => (Sequence: long.Parse(row.RowKey.AsSpan(rowKey.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture), Follows: row.GetInt64(FollowsProperty), Row: row))
            .OrderBy(entry => entry.Sequence)
            .ToList();
        var firstFollowing = snapshot?.GetInt64(JournalSequenceProperty) ?? 1;
        var spillRows = snapshot?.GetInt32(SpillRowsProperty) ?? 0;
        // A snapshot takes the sequence after next, which is then past every spill row found: spill rows
        // are added, never replaced (see WriteSpillRowsAsync), and those of a snapshot refused or
        // never sent may be there.
        var next = Math.Max(journal.Count > 0 ? Math.Max(firstFollowing, journal[^1].Sequence + 1) : firstFollowing,
            spilled.Count > 0 ? spilled.Max(row => SpillSequenceOf(row.RowKey, rowKey)) : 0);
        var (state, snapshotBytes) = DeserializeRows<T>(SnapshotDataRows(rows, rowKey)
            ?? throw new InvalidDataException($"The snapshot of {Describe(grainId, stateName)} is held by {spillRows} spill rows, and storage is missing some of them."));

        // Rows no load applies (below the snapshot's journal, or following an older snapshot, or all of
        // them without a snapshot: left by a state cleared meanwhile) are deleted as found, not by number
        // from the lowest to the next snapshot's: numbers long gone would each cost the partition a
        // refused transaction. A row following a newer snapshot than this load read is left alone, and
        // so are spill rows without a snapshot (a first snapshot's, whose own row may be on its way).
        var obsolete = journal.Where(entry => state is null || entry.Sequence < firstFollowing || entry.Follows < firstFollowing).Select(entry => entry.Row.RowKey)
            .Concat(spilled.Where(row => snapshot is not null && SpillSequenceOf(row.RowKey, rowKey) < firstFollowing).Select(row => row.RowKey))
            .ToList();
        _ = DeleteRowsAsync(partitionKey, obsolete, Describe(grainId, stateName));
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
        grainState.ETag = new JournalPosition(snapshot!.ETag.ToString(), next, firstLive, MaxJournalRows, journalBytes, snapshotBytes, spillRows).Format();
    }

    /// <summary>
    /// The rows among <paramref name="rows"/> that hold the snapshot's data, in order: the snapshot
    /// row, or the spill rows it names; none without a snapshot; null when a spill row it names is
    /// missing (a load that still finds it so fails, loudly).
    /// </summary>
    private static List<TableEntity>? SnapshotDataRows(List<TableEntity> rows, string rowKey)
    {
        if (rows.FirstOrDefault(row => row.RowKey == rowKey) is not { } snapshot)
        {
            return [];
        }

        var spillRows = snapshot.GetInt32(SpillRowsProperty) ?? 0;
        if (spillRows <= 0)
        {
            return [snapshot];
        }

        var sequence = snapshot.GetInt64(JournalSequenceProperty) ?? 1;
        var byKey = rows.ToDictionary(row => row.RowKey, StringComparer.Ordinal);
        var named = new List<TableEntity>(spillRows);
        for (var index = 0; index < spillRows; index++)
        {
            if (!byKey.TryGetValue(SpillRowKey(rowKey, sequence, index), out var row))
            {
                return null;
            }

            named.Add(row);
        }

        return named;
    }

    /// <summary>
    /// Deletes this writer's spill rows of a snapshot whose row was refused as a conflict, unless the
    /// snapshot row names them after all: the storage client retries a request whose answer it lost,
    /// and the retry of a write that had landed is refused as a conflict. Only this writer's snapshot
    /// can name spill rows of <paramref name="sequence"/> (it added them), so a snapshot row of that
    /// sequence naming spill rows is its own. Best effort: rows left are deleted by a later load.
    /// </summary>
    private async Task DeleteUnnamedSpillRowsAsync(string partitionKey, string rowKey, long sequence, int spillRows, string grain)
    {
        try
        {
            var snapshot = await ReadRowAsync(partitionKey, rowKey, CancellationToken.None);
            if (snapshot?.GetInt64(JournalSequenceProperty) == sequence && snapshot.GetInt32(SpillRowsProperty) > 0)
            {
                return;
            }
        }
        catch (Exception exception)
        {
            logger.LogDebug(exception, "The spill rows of {Grain}'s refused snapshot are left for a later load.", grain);
            return;
        }

        await DeleteRowsAsync(partitionKey, Enumerable.Range(0, spillRows).Select(index => SpillRowKey(rowKey, sequence, index)), grain);
    }

    /// <summary>The grain's snapshot, journal and spill rows, in one range query.</summary>
    private Task<List<TableEntity>> ReadRowsOfAsync(string partitionKey, string rowKey, CancellationToken cancellationToken) =>
        StorageErrors.Translate(StoreDescription.Statistics, partitionKey, deadline, async token =>
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {rowKey} and RowKey le {SpillRowKey(rowKey, 9_999_999_999, 99)}");
            var found = new List<TableEntity>();
            await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: token))
            {
                found.Add(row);
            }

            return found;
        }, cancellationToken);

    private static bool IsSpillRow(string candidate, string rowKey) =>
        candidate.Length > rowKey.Length + 1 && candidate[rowKey.Length + 1] == SpillMark;

    /// <summary>The sequence in a spill row's key (<see cref="SpillRowKey"/>).</summary>
    private static long SpillSequenceOf(string spillRowKey, string rowKey) =>
        long.Parse(spillRowKey.AsSpan(rowKey.Length + 2, 10), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The rows a snapshot after <paramref name="position"/> makes obsolete: <paramref name="journal"/>'s rows and the spill rows of the snapshot it replaces.</summary>
    private static IEnumerable<string> ObsoleteRowKeys(string rowKey, JournalPosition position, IEnumerable<long> journal) =>
        journal.Select(sequence => JournalRowKey(rowKey, sequence))
            .Concat(Enumerable.Range(0, position.HasSnapshot ? position.SpillRows : 0).Select(index => SpillRowKey(rowKey, position.FirstSequence, index)));

    /// <summary>
    /// Writes the spill rows of a snapshot whose journal starts at <paramref name="sequence"/>, before
    /// the snapshot row that names them. Added, not replaced: two activations of one grain (a late
    /// write of the one before) may take the same sequence, and the one whose rows are there first
    /// owns it; the other fails as a conflict (<see cref="InconsistentStateException"/>) and loads
    /// again, past every spill row it finds.
    /// </summary>
    private async Task<int> WriteSpillRowsAsync(string partitionKey, string rowKey, long sequence, ReadOnlyMemory<byte> data, string grain, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        for (var start = 0; start < data.Length; start += MaxSnapshotRowBytes)
        {
            rows.Add(DataRow(partitionKey, SpillRowKey(rowKey, sequence, rows.Count), data.Slice(start, Math.Min(MaxSnapshotRowBytes, data.Length - start))));
        }

        foreach (var transaction in rows.Chunk(SpillRowsPerTransaction))
        {
            await StorageErrors.Translate(StoreDescription.Statistics, partitionKey, deadline, async token =>
            {
                using var longBody = LongTransactionBody.Scope();
                try
                {
                    await table.SubmitTransactionAsync(transaction.Select(row => new TableTransactionAction(TableTransactionActionType.Add, row)), token);
                }
                catch (RequestFailedException conflict) when (conflict.Status == 409)
                {
                    throw new InconsistentStateException($"The spill rows of {grain} from sequence {sequence} are another writer's: {conflict.ErrorCode}.", "Unknown", "", conflict);
                }
            }, cancellationToken);
        }

        return rows.Count;
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
            if (position.JournalBytes + entry.Length <= position.SnapshotBytes && entry.Length <= MaxSnapshotRowBytes)
            {
                var journalRow = DataRow(partitionKey, JournalRowKey(rowKey, position.NextSequence), entry);
                journalRow[FollowsProperty] = position.FirstSequence;

                // Lands only while the snapshot is as this activation left it (see the class's remarks).
                var fence = new TableEntity(partitionKey, rowKey) { [WriterProperty] = WriterOf(grainState) };
                var after = position with
                {
                    NextSequence = position.NextSequence + 1,
                    JournalRows = position.JournalRows + 1,
                    JournalBytes = position.JournalBytes + entry.Length,
                };
                ETag? snapshotETag;
                try
                {
                    snapshotETag = await writes.SubmitAsync(
                        new PendingRowChange(TableTransactionActionType.Add, journalRow, default, EstimatedBytes(journalRow, entry.Length), Describe(grainId, stateName), fence, new ETag(position.SnapshotETag)),
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

                grainState.ETag = (after with { SnapshotETag = snapshotETag?.ToString() ?? "" }).Format();
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
            data = SerializeWithin(grainState.State, MaxJournaledStateBytes);
        }
        catch
        {
            journaled.ReturnChanges(changes);
            throw;
        }

        var spillRows = 0;
        try
        {
            spillRows = data.Length > MaxSnapshotRowBytes ? await WriteSpillRowsAsync(partitionKey, rowKey, following, data, Describe(grainId, stateName), cancellationToken) : 0;
            var own = spillRows > 0 ? SpilledMarker : data;
            var snapshot = DataRow(partitionKey, rowKey, own);
            snapshot[WriterProperty] = WriterOf(grainState);
            snapshot[JournalSequenceProperty] = following;
            if (spillRows > 0)
            {
                snapshot[SpillRowsProperty] = spillRows;
            }

            var kind = position.HasSnapshot ? TableTransactionActionType.UpdateReplace : TableTransactionActionType.Add;
            var written = await writes.SubmitAsync(
                new PendingRowChange(kind, snapshot, position.HasSnapshot ? new ETag(position.SnapshotETag) : default, EstimatedBytes(snapshot, own.Length), Describe(grainId, stateName)),
                cancellationToken);
            grainState.ETag = new JournalPosition(written?.ToString() ?? "", following, following, 0, 0, data.Length, spillRows).Format();
            grainState.RecordExists = true;
            OrderFlowTelemetry.ProjectionSnapshotSize.Record(data.Length, new KeyValuePair<string, object?>(OrderFlowTelemetry.ProjectionGrainTag, grainId.Type.ToString()));
            if (data.Length > NearLimitBytes && position.SnapshotBytes <= NearLimitBytes)
            {
                // Said before its writes fail (README "Capacity"), once as it passes: a load takes the size it read.
                logger.LogWarning(
                    "The state of {Grain} takes {Bytes} bytes, more than three quarters of the {MaxBytes} a projection's state may take; beyond that its writes fail (README \"Capacity\").",
                    Describe(grainId, stateName), data.Length, MaxJournaledStateBytes);
            }
        }
        catch (Exception exception)
        {
            if (exception is InconsistentStateException && spillRows > 0)
            {
                await DeleteUnnamedSpillRowsAsync(partitionKey, rowKey, following, spillRows, Describe(grainId, stateName));
            }

            // It may have landed, its journal starting at `following`: the next write is a snapshot
            // again (refused as a conflict if this one landed; the re-read sets the position anew),
            // since a journal row would follow the snapshot this writer had, not the one that landed.
            journaled.ReturnChanges(changes);
            grainState.ETag = (position with { NextSequence = following, JournalRows = MaxJournalRows }).Format();
            throw;
        }

        // Not awaited: the write is done, and a flush (a rebuild's, a day's before its push) need not wait for the cleanup.
        _ = DeleteRowsAsync(partitionKey, ObsoleteRowKeys(rowKey, position, LongRange(position.FirstSequence, position.NextSequence)), Describe(grainId, stateName));
    }

    private static IEnumerable<long> LongRange(long from, long until)
    {
        for (var sequence = from; sequence < until; sequence++)
        {
            yield return sequence;
        }
    }

    /// <summary>
    /// Deletes the journal and spill rows <paramref name="rowKeys"/>, which a snapshot made obsolete.
    /// Best effort: a row left behind is skipped by every load (it is below the snapshot's sequence)
    /// and deleted by the next activation's load.
    /// </summary>
    private async Task DeleteRowsAsync(string partitionKey, IEnumerable<string> rowKeys, string grain)
    {
        var deletions = new List<Task>();
        foreach (var rowKey in rowKeys)
        {
            var row = new TableEntity(partitionKey, rowKey);
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
            logger.LogDebug(exception, "Obsolete journal or spill rows of {Grain} are left for its next load.", grain);
        }
    }
}
