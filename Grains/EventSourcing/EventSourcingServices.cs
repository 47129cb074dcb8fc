using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// What every <see cref="EventSourcedGrain{TState,TEvent,TCommand,TEnvelope}"/> needs from the
/// silo, in one service so that an aggregate's grain asks for it alone.
/// </summary>
public sealed class EventSourcingServices(
    EventLogs logs, ChangeAnnouncer changes, IOptions<EventStoreOptions> options, StorageRollbacks rollbacks, TimeProvider time)
{
    /// <summary>The log-consistency provider every event-sourced grain names (custom storage: the grain does its own I/O).</summary>
    public const string LogConsistencyProviderName = "EventLog";

    public EventLogs Logs { get; } = logs;

    public ChangeAnnouncer Changes { get; } = changes;

    public EventStoreOptions Options { get; } = options.Value;

    public StorageRollbacks Rollbacks { get; } = rollbacks;

    public TimeProvider Time { get; } = time;
}
