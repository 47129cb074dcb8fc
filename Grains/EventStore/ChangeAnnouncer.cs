namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Group commit of this silo's announcements in the <see cref="ChangeIndex"/>: the writers that
/// announce while a group is being written wait together and go in the next group, one request
/// for up to <see cref="TableLimits.MaxEntitiesPerTransaction"/> of them. An announcement that finds
/// nothing being written is written at once, so a lone writer waits for no one.
/// </summary>
/// <remarks>
/// Every writer awaits its group's request, and a group is recorded all or none: a failed group
/// fails every writer in it, none of whose appends may then go ahead (announced before appended is
/// what makes the reconciliation complete). A group's bucket is taken when its request is sent, not
/// when its writers asked, so that a row is never older than its request: the longest an announced
/// append can land after its bucket's rows are written stays two event-log operations.
/// </remarks>
public sealed class ChangeAnnouncer(ChangeIndex changes, TimeProvider time)
{
    private readonly Lock gate = new();
    private List<Announcement> waiting = [];
    private bool writing;

    /// <summary>The bucket that <paramref name="at"/> falls in (see <see cref="ChangeIndex.BucketOf"/>).</summary>
    public string BucketOf(DateTimeOffset at) => changes.BucketOf(at);

    /// <summary>
    /// Records that <paramref name="streamId"/> (of <paramref name="category"/>) is about to change from
    /// <paramref name="fromVersion"/> on; returns the bucket it was recorded in, once it is stored.
    /// </summary>
    /// <exception cref="Storage.StorageUnavailableException">The group could not be recorded: the append must not go ahead.</exception>
    public Task<string> AnnounceAsync(string streamId, int fromVersion, string category = StreamCategories.Order)
    {
        var announcement = new Announcement(new ChangeToRecord(streamId, fromVersion, category));
        bool start;
        lock (gate)
        {
            waiting.Add(announcement);
            start = !writing;
            writing = true;
        }

        if (start)
        {
            // Off the caller's (grain's) scheduler: the loop writes for every grain of the silo.
            _ = Task.Run(WriteWhileAnyWaitAsync);
        }

        return announcement.Recorded.Task;
    }

    private async Task WriteWhileAnyWaitAsync()
    {
        while (true)
        {
            List<Announcement> batch;
            lock (gate)
            {
                if (waiting.Count == 0)
                {
                    writing = false;
                    return;
                }

                batch = waiting;
                waiting = [];
            }

            // The same row asked twice is written once (a transaction refuses a row twice).
            await Task.WhenAll(batch.GroupBy(a => a.Change)
                .Chunk(TableLimits.MaxEntitiesPerTransaction)
                .Select(WriteGroupAsync));
        }
    }

    private async Task WriteGroupAsync(IGrouping<ChangeToRecord, Announcement>[] group)
    {
        try
        {
            var bucket = await changes.RecordGroupAsync([.. group.Select(g => g.Key)], time.GetUtcNow());
            foreach (var announcement in group.SelectMany(g => g))
            {
                announcement.Recorded.SetResult(bucket);
            }
        }
        catch (Exception exception)
        {
            foreach (var announcement in group.SelectMany(g => g))
            {
                announcement.Recorded.SetException(exception);
            }
        }
    }

    private sealed class Announcement(ChangeToRecord change)
    {
        public ChangeToRecord Change { get; } = change;

        public TaskCompletionSource<string> Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
