namespace OrderFlow.Grains.EventStore;

/// <summary>Configuration section <c>EventStore</c>.</summary>
public sealed class EventStoreOptions
{
    public const string Section = "EventStore";

    /// <summary>The table holding the orders' events, snapshots and idempotency records; other categories' tables are named after it (<see cref="TableNameOf"/>).</summary>
    public string TableName { get; set; } = "events";

    /// <summary>
    /// The table holding the streams of <paramref name="category"/>: <see cref="TableName"/> for
    /// orders (<see cref="StreamCategories.Order"/>), whose rows predate categories, and
    /// <see cref="TableName"/> followed by the category for every other ("eventscustomer"), so
    /// that streams of different categories never share a partition, a scan or a rebuild.
    /// </summary>
    public string TableNameOf(string category)
    {
        if (!StreamCategories.IsValid(category))
        {
            throw new ArgumentException($"Category '{category}' must be lower-case letters.", nameof(category));
        }

        return category == StreamCategories.Order ? TableName : TableName + category;
    }

    /// <summary>
    /// A snapshot is written every this many events, in the same transaction as the event that
    /// reaches the multiple, so that activation reads at most this many events after the snapshot.
    /// </summary>
    public int SnapshotInterval { get; set; } = 100;

    /// <summary>
    /// The longest one event-log operation (a read or an append, retries included) may take before
    /// it fails with <see cref="Storage.StorageUnavailableException"/>. A command makes up to three
    /// such operations and must answer well within Orleans' 30 s call timeout.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// The table of the <see cref="ChangeIndex"/> (which streams changed when); by default the
    /// events table's name followed by "changes".
    /// </summary>
    public string? ChangesTableName { get; set; }

    /// <summary>
    /// The width of the change index's time buckets. Wider buckets mean fewer index writes (one per
    /// writer and bucket) but a later look at the changes: a bucket is read once it has ended.
    /// </summary>
    public TimeSpan ChangeBucket { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The narrowest <see cref="ChangeBucket"/>: bucket keys are written to the second.</summary>
    public static readonly TimeSpan MinChangeBucket = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often each silo rewrites its row in the rollback watch table (the events table's name
    /// followed by "watch"), to notice storage losing writes while it runs (<see cref="StorageRollbackWatch"/>).
    /// A loss is noticed when it reaches back past the silo's last write; zero turns the watch off.
    /// </summary>
    public TimeSpan RollbackWatchInterval { get; set; } = TimeSpan.FromSeconds(1);
}
