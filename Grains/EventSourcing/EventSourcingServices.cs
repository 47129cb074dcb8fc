using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// What every <see cref="EventSourcedGrain{TState,TEvent,TCommand,TEnvelope}"/> needs from the
/// silo, in one service so that an aggregate's grain asks for it alone.
/// </summary>
public sealed class EventSourcingServices(
    EventLogs logs,
    ChangeAnnouncer changes,
    IOptions<EventStoreOptions> options,
    StorageRollbacks rollbacks,
    PersonalDataProtector personalData,
    ConfirmedEnvelopes confirmed,
    EventStreamHandles streamHandles,
    TimeProvider time)
{
    /// <summary>The log-consistency provider every event-sourced grain names (custom storage: the grain does its own I/O).</summary>
    public const string LogConsistencyProviderName = "EventLog";

    public EventLogs Logs { get; } = logs;

    public ChangeAnnouncer Changes { get; } = changes;

    public EventStoreOptions Options { get; } = options.Value;

    public StorageRollbacks Rollbacks { get; } = rollbacks;

    public TimeProvider Time { get; } = time;

    /// <summary>The envelopes the silo's grains confirmed lately, which the reconciliation takes instead of reading the log.</summary>
    public ConfirmedEnvelopes Confirmed { get; } = confirmed;

    /// <summary>The silo's handles of the streams the grains publish to, shared rather than made per activation.</summary>
    public EventStreamHandles StreamHandles { get; } = streamHandles;

    /// <summary>Seals personal data before it is appended and reveals it for the reads that show it.</summary>
    public PersonalDataProtector PersonalData { get; } = personalData;
}
