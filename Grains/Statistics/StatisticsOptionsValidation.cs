using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Storage;

namespace OrderFlow.Grains.Statistics;

/// <summary>
/// Refuses, at start, write-behind timings that would fail every projection's activation instead
/// (the flush ticks fall on multiples of <see cref="StatisticsOptions.FlushInterval"/>), a table name
/// storage would refuse, and reconciliation settings that make no sense.
/// </summary>
public sealed class StatisticsOptionsValidation : IValidateOptions<StatisticsOptions>
{
    public ValidateOptionsResult Validate(string? name, StatisticsOptions options)
    {
        var failures = new List<string>();
        if (!TableLimits.IsValidTableName(options.TableName))
        {
            failures.Add($"{StatisticsOptions.Section}:{nameof(StatisticsOptions.TableName)} is '{options.TableName}'; a table name is {TableLimits.TableNameRule}.");
        }

        // The first tick may be up to 1.05 intervals away (WriteBehindProjectionGrain), and a grain timer waits at most 0xfffffffe ms.
        if (options.FlushInterval <= TimeSpan.Zero || options.FlushInterval.TotalMilliseconds * 1.05 > 0xfffffffe)
        {
            failures.Add($"{StatisticsOptions.Section}:{nameof(StatisticsOptions.FlushInterval)} is {options.FlushInterval}; it must be positive and at most 47 days (for example 00:00:01).");
        }

        // A write may wait PartitionGroupCommit.MaxLingers lingers: all of them within one flush interval.
        if (options.GroupCommitLinger < TimeSpan.Zero
            || options.GroupCommitLinger * PartitionGroupCommit.MaxLingers >= options.FlushInterval && options.FlushInterval > TimeSpan.Zero)
        {
            failures.Add($"{StatisticsOptions.Section}:{nameof(StatisticsOptions.GroupCommitLinger)} is {options.GroupCommitLinger}; it must be 0 or more, and {PartitionGroupCommit.MaxLingers} times it shorter than the flush interval (for example 00:00:00.005).");
        }

        if (options.ClosedOrderMemory < TimeSpan.Zero)
        {
            failures.Add($"{StatisticsOptions.Section}:{nameof(StatisticsOptions.ClosedOrderMemory)} is {options.ClosedOrderMemory}; it must be 0 or more (for example 7.00:00:00).");
        }

        var reconciliation = options.Reconciliation;
        if (reconciliation.Interval <= TimeSpan.Zero)
        {
            failures.Add($"{StatisticsOptions.Section}:Reconciliation:{nameof(reconciliation.Interval)} is {reconciliation.Interval}; it must be positive (for example 00:00:10).");
        }

        if (reconciliation.Settle < TimeSpan.Zero)
        {
            failures.Add($"{StatisticsOptions.Section}:Reconciliation:{nameof(reconciliation.Settle)} is {reconciliation.Settle}; it must be 0 or more (for example 00:01:00).");
        }

        // A pass that deals with none would be followed by another at once, for ever.
        if (reconciliation.MaxChangesPerPass < 1)
        {
            failures.Add($"{StatisticsOptions.Section}:Reconciliation:{nameof(reconciliation.MaxChangesPerPass)} is {reconciliation.MaxChangesPerPass}; it must be 1 or more (for example 200).");
        }

        if (options.Reconciliation.HeldEnvelopes < 0)
        {
            failures.Add($"{StatisticsOptions.Section}:Reconciliation:{nameof(options.Reconciliation.HeldEnvelopes)} is {options.Reconciliation.HeldEnvelopes}; it must be 0 or more (0 holds none: the reconciliation reads every change back from the log).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
