using Microsoft.Extensions.Logging;
using Orleans.Providers;
using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Storage;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Customers;

/// <summary>
/// The customer aggregate: <see cref="CustomerDecider"/> on <see cref="CustomerState"/>, stored and
/// published by <see cref="EventSourcedGrain{TState,TEvent,TCommand,TEnvelope}"/> as
/// <see cref="CustomerEventSource"/> says. What is the customer's own here: an erasure deletes the
/// subject's key (<see cref="IPersonalDataEraser"/>) before it is recorded.
/// </summary>
[LogConsistencyProvider(ProviderName = EventSourcingServices.LogConsistencyProviderName)]
public sealed class CustomerGrain(EventSourcingServices services, IPersonalDataEraser eraser, ILogger<CustomerGrain> logger)
    : EventSourcedGrain<CustomerState, CustomerEvent, CustomerCommand, CustomerEventEnvelope>(CustomerEventSource.Instance, services, logger), ICustomerGrain
{
    /// <summary>This command's erasure began deleting the subject's key: from then on it may have written something, whatever fails after.</summary>
    private bool keyErasedByCommand;

    public async Task<CustomerCommandResult> Execute(CustomerCommand command, CommandMetadata metadata)
    {
        keyErasedByCommand = false;
        CommandOutcome<CustomerState> outcome;
        try
        {
            outcome = await ExecuteCommandAsync(command, metadata);
        }
        catch (StorageUnavailableException unavailable) when (keyErasedByCommand && !unavailable.WriteOutcomeUnknown)
        {
            // Not "nothing was written": the key is gone, its record is not. The retry records it.
            throw new StorageUnavailableException(
                $"The personal data of '{AggregateId}' was shredded (its key erased), but recording the erasure failed: {unavailable.Message}", unavailable, writeOutcomeUnknown: true);
        }

        if (command is ErasePersonalData && outcome.Error is null && !keyErasedByCommand)
        {
            // Answered from its Idempotency-Key's record without deciding: a repeat deletes again all
            // the same, as README promises (keys restored from a backup since are shredded).
            await EraseAgainAsync();
        }

        if (outcome.Error is { } failed && keyErasedByCommand)
        {
            // Whatever refused the erasure after its key was gone, the data is shredded: the answer says so.
            return new CustomerCommandResult(null, failed with
            {
                Detail = failed.Code == CommandErrorCode.Concurrency
                    ? $"Customer '{AggregateId}' kept changing under this erasure: the personal data was shredded (its key erased), its record was not written. Retry the request."
                    : $"{failed.Detail} The personal data of customer '{AggregateId}' was shredded meanwhile (its key erased) and the erasure was not recorded: erase again, with another Idempotency-Key, to record it.",
            });
        }

        return outcome.Error is { } error
            ? new CustomerCommandResult(null, error)
            : CustomerCommandResult.Success(View(outcome.State!, outcome.Version), outcome.Replayed);
    }

    private async Task EraseAgainAsync()
    {
        try
        {
            await eraser.EraseAsync(AggregateId);
        }
        catch (StorageUnavailableException unavailable) when (!unavailable.WriteOutcomeUnknown)
        {
            // The tombstone may be down (a restored table had none), the keys not all deleted.
            throw new StorageUnavailableException(
                $"The erasure of '{AggregateId}' is recorded, but deleting its keys again failed: {unavailable.Message} Retry the request.", unavailable, writeOutcomeUnknown: true);
        }
    }

    public async Task<CustomerView?> Get() => await CurrentStateAsync() is { } state ? View(state, Version) : null;

    public async Task<CustomerView?> GetAsOf(DateTimeOffset asOf) =>
        await StateAsOfAsync(asOf) is ({ } state, var version) ? View(state, version) : null;

    /// <summary>The view of a state just produced by the base: erased also as of a time before the erasure, whose events' personal data read as null.</summary>
    private CustomerView View(CustomerState state, int version) =>
        LastStateHadErasedPersonalData ? state.ToView(AggregateId, version) with { Erased = true } : state.ToView(AggregateId, version);

    public Task<EventPage?> GetEvents(int fromVersion, int limit) => EventPageAsync(fromVersion, limit);

    protected override bool StartsStream(CustomerCommand command) => command is RegisterCustomer;

    /// <summary>An erasure needs no name or email, nor their key: a lost or unreadable key must not stop it.</summary>
    protected override bool DecidesWithoutPersonalData(CustomerCommand command) => command is ErasePersonalData;

    /// <summary>An erasure retried by another administrator is the same request: who asked is recorded in the event, not compared.</summary>
    protected override CustomerCommand RequestIdentityOf(CustomerCommand command) =>
        command is ErasePersonalData erase ? erase with { ErasedBy = null } : command;

    /// <summary>An erasure's decision deletes the subject's key.</summary>
    protected override bool DecidingActs(CustomerCommand command) => command is ErasePersonalData;

    protected override async Task<Decision<CustomerEvent>> DecideAsync(CustomerCommand command, bool afterConflict)
    {
        var decision = CustomerDecider.Decide(State, AggregateId, command, Time.GetUtcNow());
        if (command is ErasePersonalData && decision.Error is null)
        {
            // First the key, then the record of it; a repeat deletes again, in case the first stopped in between.
            // Set first: an erasure that fails half-way (the tombstone written, a key row not yet
            // deleted) has shredded the data too, and must not be answered "nothing was written".
            keyErasedByCommand = true;
            await eraser.EraseAsync(AggregateId);
        }

        return decision;
    }
}
