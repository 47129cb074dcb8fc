using System.Globalization;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// Where a journaled state's rows stand (<see cref="IJournaledProjectionState"/>). Orleans hands a
/// grain storage nothing per grain but the state's ETag string, so the position travels in it:
/// the snapshot row's ETag (empty when there is no snapshot yet), the sequence number the next
/// journal row takes, the snapshot's own sequence (which its journal rows name, and from which the
/// next snapshot makes rows obsolete; a load deletes those it finds below it), and the journal's
/// rows and bytes since the snapshot (rows at the limit: the next write is a snapshot), with the
/// snapshot's own bytes and the spill rows that hold them (none: the snapshot row does; the spill
/// rows are numbered by the snapshot's own sequence, <paramref name="FirstSequence"/>).
/// </summary>
internal readonly record struct JournalPosition(string SnapshotETag, long NextSequence, long FirstSequence, int JournalRows, long JournalBytes, long SnapshotBytes, int SpillRows = 0)
{
    private const char Separator = '|';

    public bool HasSnapshot => SnapshotETag.Length > 0;

    public string Format() => string.Create(CultureInfo.InvariantCulture,
        $"{SnapshotETag}{Separator}{NextSequence}{Separator}{FirstSequence}{Separator}{JournalRows}{Separator}{JournalBytes}{Separator}{SnapshotBytes}{Separator}{SpillRows}");

    /// <summary>The position an ETag carries; null for none (a state never read from or written to this storage's journaled layout).</summary>
    public static JournalPosition? Parse(string? etag)
    {
        if (etag is null)
        {
            return null;
        }

        // From the end: a storage ETag never holds the separator, but there is no need to rely on it.
        var parts = new long[6];
        var end = etag.Length;
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            var separator = end == 0 ? -1 : etag.LastIndexOf(Separator, end - 1);
            if (separator < 0 || !long.TryParse(etag.AsSpan(separator + 1, end - separator - 1), NumberStyles.None, CultureInfo.InvariantCulture, out parts[i]))
            {
                return null;
            }

            end = separator;
        }

        return new JournalPosition(etag[..end], parts[0], parts[1], (int)parts[2], parts[3], parts[4], (int)parts[5]);
    }
}
