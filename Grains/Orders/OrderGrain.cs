using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Orleans.Providers;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Storage;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// The order aggregate: <see cref="OrderDecider"/> on <see cref="OrderState"/>, stored and published
/// by <see cref="EventSourcedGrain{TState,TEvent,TCommand,TEnvelope}"/> as <see cref="OrderEventSource"/> says.
/// What is the order's own here: its refund ids, recorded once each in a row of the order's partition.
/// </summary>
[LogConsistencyProvider(ProviderName = EventSourcingServices.LogConsistencyProviderName)]
public sealed class OrderGrain(EventSourcingServices services, ILogger<OrderGrain> logger)
    : EventSourcedGrain<OrderState, OrderEvent, OrderCommand, OrderEventEnvelope>(OrderEventSource.Instance, services, logger), IOrderGrain
{
    /// <summary>The <see cref="UniqueKeyRecord.Kind"/> of the order's refund rows: refund id → amount.</summary>
    private const string RefundKeyKind = "refund";

    public async Task<CommandResult> Execute(OrderCommand command, CommandMetadata metadata)
    {
        var outcome = await ExecuteCommandAsync(command, metadata);
        if (outcome.Error is { } error)
        {
            return new CommandResult(null, error);
        }

        try
        {
            return CommandResult.Success(await ViewAsync(outcome.State!, outcome.Version), outcome.Replayed);
        }
        catch (Exception exception) when (exception is StorageUnavailableException || PersonalDataProtector.CannotReveal(exception))
        {
            // The command is written: its answer must say so even when the key table cannot tell whether the address may be shown.
            logger.LogWarning(exception, "Order {OrderId}: the answer withholds the shipping address; its key could not be read.", AggregateId);
            return CommandResult.Success(outcome.State!.ToView(outcome.Version) with { ShippingAddress = null }, outcome.Replayed);
        }
    }

    public async Task<OrderView?> Get() => await CurrentStateAsync() is { } state ? await ViewAsync(state, Version) : null;

    public async Task<OrderView?> GetAtVersion(int version) => await StateAtVersionAsync(version) is { } state ? await ViewAsync(state, version) : null;

    public async Task<OrderView?> GetAsOf(DateTimeOffset asOf) =>
        await StateAsOfAsync(asOf) is ({ } state, var version) ? await ViewAsync(state, version) : null;

    public Task<EventPage?> GetEvents(int fromVersion, int limit) => EventPageAsync(fromVersion, limit);

    protected override bool StartsStream(OrderCommand command) => command is PlaceOrder;

    /// <summary>
    /// The view of <paramref name="state"/>, just produced by a call of the base: flagged when its log
    /// held an erased address, and with the address withheld if the customer was erased since it was
    /// decrypted (a state held in memory across the erasure: one call to the key's grain, only for an
    /// order that shows an address).
    /// </summary>
    private async Task<OrderView> ViewAsync(OrderState state, int version)
    {
        var view = state.ToView(version);
        if (view.ShippingAddress is not null)
        {
            return await PersonalData.IsErasedAsync(state.CustomerId) ? view with { ShippingAddress = null, PersonalDataErased = true } : view;
        }

        return LastStateHadErasedPersonalData ? view with { PersonalDataErased = true } : view;
    }

    /// <summary>
    /// Decides <paramref name="command"/> on the current view. A refund id recorded before has its
    /// row in the order's partition, read only when the answer can depend on it: when the decision
    /// would not append and the refusal is not of the fields alone (a repeat's answer is not a
    /// refusal, even when a later refund makes its event time look too early), or after a conflict,
    /// which the insert of that row raises when an append repeats a recorded id. A new refund id costs no read.
    /// </summary>
    protected override async Task<Decision<OrderEvent>> DecideAsync(OrderCommand command, bool afterConflict)
    {
        var now = Time.GetUtcNow();
        var decision = OrderDecider.Decide(State, AggregateId, command, now);
        if (command is RefundOrder { RefundId: { } refundId } && !decision.AlreadyApplied
            && (afterConflict || decision.Error is { Code: not CommandErrorCode.NotFound } && !decision.FromFieldsAlone)
            && await Store.FindUniqueKeyAsync(AggregateId, RefundKeyKind, refundId) is { } recorded
            && !await OutlivedItsRefundAsync(refundId, recorded))
        {
            decision = OrderDecider.Decide(State, AggregateId, command, now, decimal.Parse(recorded.Value, CultureInfo.InvariantCulture));
        }
        else if (afterConflict && decision.Events.Length > 1)
        {
            // A refund the command records beside another event (a cancellation's of a paid order,
            // whose id is always the same): a row of it that outlived its events would fail every append.
            foreach (var refund in decision.Events.OfType<OrderRefunded>())
            {
                if (await Store.FindUniqueKeyAsync(AggregateId, RefundKeyKind, refund.RefundId) is { } row
                    && !await OutlivedItsRefundAsync(refund.RefundId, row)
                    && row is { Version: null } or { EventId: null }
                    && refund.RefundId == OrderDecider.CancellationRefundId
                    && await ViewStillCurrentAsync())
                {
                    // A row from before rows named their event, of the id only a cancellation records:
                    // the view just reloaded holds no cancellation, and the log has not moved since,
                    // so storage kept the row without its cancellation (read after the row, the head
                    // would have moved with a cancellation landing meanwhile).
                    logger.LogError(
                        "Order {OrderId}: the row of the cancellation's refund was kept without the cancellation (the log has none); the row is removed and the cancellation decided again.",
                        AggregateId);
                    await Store.RemoveStaleUniqueKeyAsync(AggregateId, RefundKeyKind, refund.RefundId, row);
                }
            }
        }

        return decision;
    }

    /// <summary>
    /// Whether <paramref name="recorded"/> is a row that storage kept without the refund it was written
    /// with (a partial restore, rows copied one by one): removed then, so that the refund is judged
    /// against the log (a row written since stays, and the append's insert of it conflicts again).
    /// </summary>
    private async Task<bool> OutlivedItsRefundAsync(string refundId, RecordedUniqueKey recorded)
    {
        if (recorded is not { Version: { } version, EventId: { } eventId } || await Store.HoldsEventAsync(AggregateId, version, eventId))
        {
            return false;
        }

        logger.LogError(
            "Order {OrderId}: the row of refund '{RefundId}' names version {RowVersion}, which the log does not hold as recorded; storage lost the refund. The row is removed and the refund decided again.",
            AggregateId, refundId, version);
        await Store.RemoveStaleUniqueKeyAsync(AggregateId, RefundKeyKind, refundId, recorded);
        return true;
    }

    protected override IReadOnlyList<UniqueKeyRecord> UniqueKeysOf(ImmutableArray<OrderEvent> events) =>
        [.. events.OfType<OrderRefunded>().Select(refund =>
            new UniqueKeyRecord(RefundKeyKind, refund.RefundId, refund.Amount.ToString(CultureInfo.InvariantCulture)))];
}
