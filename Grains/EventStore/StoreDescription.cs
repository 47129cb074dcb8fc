namespace OrderFlow.Grains.EventStore;

/// <summary>
/// How <see cref="StorageErrors"/> names what failed: the event log, the subject keys' table
/// (which may be in another account and is restored otherwise), or the projections' state table.
/// </summary>
/// <param name="Name">The store, as a sentence starts with it.</param>
/// <param name="ItemKind">What an operation's id names (a stream, a subject).</param>
/// <param name="Table">The store's table, as a sentence starts with it.</param>
/// <param name="WhenTableMissing">What to do when the table was deleted under a running store.</param>
internal sealed record StoreDescription(string Name, string ItemKind, string Table, string WhenTableMissing)
{
    public static readonly StoreDescription EventLog = new(
        "The event log", "stream", "The event log's table", "Restore the table, or restart the silos to create an empty one.");

    /// <summary>An empty key table in its place would leave every sealed value unreadable: it is restored from its backup only.</summary>
    public static readonly StoreDescription KeyTable = new(
        "The key table", "subject", "The key table", "Restore it from its backup (README \"Personal data\", backing up keys): the subjects' keys are nowhere else.");

    /// <summary>Derived data: an empty table in its place is filled again by a rebuild from the log.</summary>
    public static readonly StoreDescription Statistics = new(
        "The statistics' storage", "partition", "The statistics' table", "Restore the table, or restart the silos to create an empty one and rebuild the projections (POST /api/admin/projections/rebuild).");
}
