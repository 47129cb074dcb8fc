using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using OrderFlow.Grains.EventStore;
using Orleans.Storage;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// Writes state rows by group commit: the changes to one partition that arrive while a transaction
/// of that partition is in flight (or, to an idle partition, until none has joined for
/// <paramref name="linger"/>: <see cref="LingerAsync"/>) go together in
/// the next entity-group transaction, at most <see cref="TableLimits.MaxEntitiesPerTransaction"/>
/// rows and <see cref="TableLimits.MaxTransactionBytes"/>, each conditional on its own ETag (and a
/// change with a fence, <see cref="PendingRowChange.Fence"/>, on its fence's too). Each
/// caller gets its own outcome: a row whose condition failed fails its caller alone
/// (<see cref="InconsistentStateException"/>) and the others go again; a row the service refuses
/// for another reason goes alone, so that its caller gets the service's own answer; a transaction
/// refused as a whole (too large) is split into single writes.
/// </summary>
internal sealed class PartitionGroupCommit(TableClient table, TimeSpan linger, TimeSpan deadline, ILogger logger)
{
    /// <summary>A transaction's body holds more than its entities (multipart framing, headers): this much is left for that.</summary>
    private const int GroupBodyBytes = TableLimits.MaxTransactionBytes - 64 * 1024;

    /// <summary>The longest the first change to an idle partition waits for others, in lingers.</summary>
    public const int MaxLingers = 10;

    /// <summary>The changes waiting, by partition; a partition is here while its writer runs.</summary>
    private readonly Dictionary<string, List<PendingRowChange>> waiting = new(StringComparer.Ordinal);

    /// <summary>
    /// Queues <paramref name="change"/> for its partition's next transaction and waits for its outcome.
    /// A caller cancelled while its change waits withdraws it; once it is on its way, the caller
    /// waits for its answer, so that its ETag stays known: a request takes at most the storage
    /// deadline, but a group whose rows fail one by one (each failure found by another transaction)
    /// takes one request per failed row, and the partition's later writes wait behind it.
    /// </summary>
    public async Task<ETag?> SubmitAsync(PendingRowChange change, CancellationToken cancellationToken)
    {
        var partition = change.Entity.PartitionKey;
        bool start;
        lock (waiting)
        {
            start = !waiting.TryGetValue(partition, out var changes);
            if (start)
            {
                waiting[partition] = changes = [];
            }

            changes!.Add(change);
        }

        if (start)
        {
            _ = Task.Run(() => WriteAsync(partition), CancellationToken.None);
        }

        using (cancellationToken.Register(() => Withdraw(change, cancellationToken)))
        {
            return await change.Outcome.Task;
        }
    }

    private void Withdraw(PendingRowChange change, CancellationToken cancellationToken)
    {
        lock (waiting)
        {
            if (waiting.TryGetValue(change.Entity.PartitionKey, out var changes) && changes.Remove(change))
            {
                change.Outcome.TrySetCanceled(cancellationToken);
            }
        }
    }

    /// <summary>The partition's writer: one transaction at a time, each with what has arrived meanwhile, until none waits.</summary>
    private async Task WriteAsync(string partition)
    {
        await LingerAsync(partition);
        while (true)
        {
            List<PendingRowChange> group;
            lock (waiting)
            {
                group = TakeGroup(waiting[partition]);
                if (group.Count == 0)
                {
                    waiting.Remove(partition);
                    return;
                }
            }

            try
            {
                await CommitAsync(partition, group);
            }
            catch (Exception exception)
            {
                foreach (var change in group)
                {
                    change.Outcome.TrySetException(exception);
                }
            }
        }
    }

    /// <summary>
    /// Lets the burst that the first change to an idle partition belongs to arrive whole: waits until
    /// no change has joined for <paramref name="linger"/> (a flush tick's writes come from every
    /// grain of the silo at once, spread over as long as the grains take to serialize them), or a
    /// transaction's worth has, or <see cref="MaxLingers"/> lingers have passed (a steady trickle of
    /// writes does not hold the first back for longer).
    /// </summary>
    private async Task LingerAsync(string partition)
    {
        if (linger <= TimeSpan.Zero)
        {
            return;
        }

        int joined;
        lock (waiting)
        {
            joined = waiting[partition].Count;
        }

        for (var lingers = 0; lingers < MaxLingers; lingers++)
        {
            await Task.Delay(linger);
            lock (waiting)
            {
                var changes = waiting[partition];
                if (changes.Count == joined || FillTransaction(changes))
                {
                    return;
                }

                joined = changes.Count;
            }
        }
    }

    /// <summary>Enough waits for a whole transaction: more would go in the next one anyway.</summary>
    private static bool FillTransaction(List<PendingRowChange> changes)
    {
        var group = GroupOf(changes);
        return group.Sum(change => change.Entities) == TableLimits.MaxEntitiesPerTransaction || group.Count < changes.Count;
    }

    /// <summary>Takes <see cref="GroupOf"/> the changes; the rest wait for the next transaction.</summary>
    private static List<PendingRowChange> TakeGroup(List<PendingRowChange> changes)
    {
        var group = GroupOf(changes);
        changes.RemoveAll(group.Contains);
        return group;
    }

    /// <summary>The oldest changes that fit one transaction, one per row (a fence's row counting as one of the change's).</summary>
    private static List<PendingRowChange> GroupOf(List<PendingRowChange> changes)
    {
        var group = new List<PendingRowChange>();
        var rows = new HashSet<string>(StringComparer.Ordinal);
        var bytes = 0;
        var entities = 0;
        foreach (var change in changes)
        {
            if (entities == TableLimits.MaxEntitiesPerTransaction)
            {
                break;
            }

            if (entities + change.Entities <= TableLimits.MaxEntitiesPerTransaction
                && (group.Count == 0 || bytes + change.EstimatedBytes <= GroupBodyBytes)
                && !rows.Contains(change.Entity.RowKey) && (change.Fence is null || !rows.Contains(change.Fence.RowKey)))
            {
                rows.Add(change.Entity.RowKey);
                if (change.Fence is not null)
                {
                    rows.Add(change.Fence.RowKey);
                }

                group.Add(change);
                bytes += change.EstimatedBytes;
                entities += change.Entities;
            }
        }

        return group;
    }

    private async Task CommitAsync(string partition, List<PendingRowChange> group)
    {
        var remaining = group;
        while (remaining.Count > 1)
        {
            var actions = remaining.SelectMany(change => change.Actions).ToList();
            // The estimates overstate a body (room for framing on every row), so one just below the buffer may be
            // marked and sent unbuffered: that only forgoes the single write.
            var longBody = remaining.Sum(change => change.EstimatedBytes) > LongTransactionBody.MaxBufferedBytes;
            var (answer, refusal) = await RequestAsync(partition, async token =>
            {
                using var mark = longBody ? LongTransactionBody.Scope() : null;
                return await table.SubmitTransactionAsync(actions, token);
            });
            if (answer is not null)
            {
                logger.LogDebug("Wrote {Rows} state rows of partition {Partition} in one transaction.", remaining.Count, partition);
                var action = 0;
                foreach (var change in remaining)
                {
                    action += change.Entities;
                    change.Outcome.TrySetResult(ETagOf(answer.Value[action - 1])); // a fenced change's is its fence's
                }

                return;
            }

            if (refusal is TableTransactionFailedException { FailedTransactionActionIndex: { } index } && ChangeAt(remaining, index) is { } failed)
            {
                remaining = [.. remaining.Where(change => change != failed)];
                if (IsConditionFailure(refusal))
                {
                    failed.Outcome.TrySetException(ConditionFailed(failed, refusal));
                }
                else
                {
                    await CommitOneAsync(failed); // its own request, its own answer
                }

                continue;
            }

            // Refused as a whole (too large, say): each row goes by itself.
            await Task.WhenAll(remaining.Select(CommitOneAsync));
            return;
        }

        if (remaining.Count == 1)
        {
            await CommitOneAsync(remaining[0]);
        }
    }

    /// <summary>The change that the transaction's <paramref name="action"/>-th action belongs to.</summary>
    private static PendingRowChange? ChangeAt(List<PendingRowChange> changes, int action)
    {
        foreach (var change in changes)
        {
            if (action < change.Entities)
            {
                return change;
            }

            action -= change.Entities;
        }

        return null;
    }

    private async Task CommitOneAsync(PendingRowChange change)
    {
        try
        {
            var entity = change.Entity;
            var (answer, refusal) = await RequestAsync(entity.PartitionKey, async token => change.Fence is not null
                ? (await table.SubmitTransactionAsync(change.Actions, token)).Value[^1] // with its fence, or not at all
                : change.Kind switch
                {
                    TableTransactionActionType.Add => await table.AddEntityAsync(entity, token),
                    TableTransactionActionType.Delete => await table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, change.ETag, token),
                    _ => await table.UpdateEntityAsync(entity, change.ETag, TableUpdateMode.Replace, token),
                });
            if (answer is not null)
            {
                change.Outcome.TrySetResult(ETagOf(answer));
            }
            else if (IsConditionFailure(refusal!))
            {
                change.Outcome.TrySetException(ConditionFailed(change, refusal!));
            }
            else
            {
                change.Outcome.TrySetException(refusal!); // as the service said it (ProjectionStateTooLargeException.IsCause reads a too-large one)
            }
        }
        catch (Exception exception)
        {
            change.Outcome.TrySetException(exception);
        }
    }

    private static ETag? ETagOf(Response response) => response.Headers.ETag;

    /// <summary>
    /// Sends one request within the storage deadline (<see cref="StorageErrors"/> translates storage
    /// that cannot be reached); a refusal is returned, not thrown, so that each row's caller gets its own.
    /// </summary>
    private Task<(T? Answer, RequestFailedException? Refusal)> RequestAsync<T>(string partition, Func<CancellationToken, Task<T>> request)
        where T : class =>
        StorageErrors.Translate(StoreDescription.Statistics, partition, deadline, async token =>
        {
            try
            {
                return ((T?)await request(token), (RequestFailedException?)null);
            }
            catch (RequestFailedException refused) when (IsRefusal(refused))
            {
                return (null, refused);
            }
        }, CancellationToken.None);

    private static bool IsRefusal(RequestFailedException exception) =>
        exception.Status is >= 400 and < 500 && !StorageStatus.MeansUnavailable(exception.Status) && exception.ErrorCode != "TableNotFound";

    /// <summary>The row is not as its grain last saw it: added meanwhile (409), changed (412) or gone (404).</summary>
    private static bool IsConditionFailure(RequestFailedException exception) => exception.Status is 404 or 409 or 412;

    private static InconsistentStateException ConditionFailed(PendingRowChange change, RequestFailedException refusal) =>
        new($"The state row of {change.Grain} is not as it was read: {refusal.ErrorCode}.", "Unknown", change.ETag.ToString(), refusal);
}
