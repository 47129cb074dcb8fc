using Microsoft.Extensions.Options;
using OrderFlow.Grains.Projections;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Refuses, at start, event-store settings storage would refuse later (a table name it rejects,
/// itself or with the suffix of a table named after it) or that leave no time for an operation.
/// </summary>
public sealed class EventStoreOptionsValidation : IValidateOptions<EventStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, EventStoreOptions options)
    {
        var failures = new List<string>();

        // The orders' table, every other category's, the rollback watch's and (unless named) the change index's.
        string[] named =
        [
            .. EventCategories.All.Select(category => options.TableNameOf(category.Name)),
            StorageRollbackWatch.TableNameFor(options),
            .. options.ChangesTableName is null ? [options.TableName + "changes"] : Array.Empty<string>(),
        ];
        if (named.Where(table => !TableLimits.IsValidTableName(table)).ToList() is { Count: > 0 } refused)
        {
            failures.Add($"{EventStoreOptions.Section}:{nameof(EventStoreOptions.TableName)} is '{options.TableName}', which names tables storage refuses "
                + $"({string.Join(", ", refused)}): a table name is {TableLimits.TableNameRule}, and the longest named after it adds {named.Max(table => table.Length) - options.TableName.Length} characters.");
        }

        if (options.ChangesTableName is { } changes && !TableLimits.IsValidTableName(changes))
        {
            failures.Add($"{EventStoreOptions.Section}:{nameof(EventStoreOptions.ChangesTableName)} is '{changes}'; a table name is {TableLimits.TableNameRule}.");
        }

        if (options.SnapshotInterval < 1)
        {
            failures.Add($"{EventStoreOptions.Section}:{nameof(EventStoreOptions.SnapshotInterval)} is {options.SnapshotInterval}; it must be 1 or more (a snapshot every this many events).");
        }

        if (options.OperationTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{EventStoreOptions.Section}:{nameof(EventStoreOptions.OperationTimeout)} is {options.OperationTimeout}; it must be positive (for example 00:00:06).");
        }

        if (options.ChangeBucket < EventStoreOptions.MinChangeBucket)
        {
            failures.Add($"{EventStoreOptions.Section}:{nameof(EventStoreOptions.ChangeBucket)} is {options.ChangeBucket}; it must be at least one second (for example 00:01:00).");
        }

        if (options.RollbackWatchInterval < TimeSpan.Zero)
        {
            failures.Add($"{EventStoreOptions.Section}:{nameof(EventStoreOptions.RollbackWatchInterval)} is {options.RollbackWatchInterval}; it must be 0 (off) or positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
