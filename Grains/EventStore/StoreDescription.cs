namespace OrderFlow.Grains.EventStore;

/// <summary>
/// How <see cref="StorageErrors"/> names what failed: the event log, or the subject keys' table,
/// which may be in another account and is restored otherwise.
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
}
