using OrderFlow.Orders.Commands;

namespace OrderFlow.Orders;

/// <summary>
/// One order, event-sourced: every command appends its events to the order's log in one storage
/// transaction, and every query is a fold over that log. The grain key is the order id.
/// </summary>
[Alias("orderflow.order-grain")]
public interface IOrderGrain : IGrainWithStringKey
{
    /// <summary>
    /// Validates the command against the order's current state and, when allowed, appends the
    /// resulting events. A refused command writes nothing.
    /// </summary>
    /// <exception cref="Storage.StorageUnavailableException">The event log could not be reached or did not answer in time; see the exception for what that means for the write.</exception>
    [Alias("execute")]
    Task<CommandResult> Execute(OrderCommand command, CommandMetadata metadata);

    /// <summary>The order now, or null when it does not exist.</summary>
    [Alias("get")]
    Task<OrderView?> Get();

    /// <summary>The order as it stood right after event <paramref name="version"/>, or null when it had no such version.</summary>
    [Alias("get-at-version")]
    Task<OrderView?> GetAtVersion(int version);

    /// <summary>The order as it stood at event time <paramref name="asOf"/> (inclusive), or null when it had not been placed yet.</summary>
    [Alias("get-as-of")]
    Task<OrderView?> GetAsOf(DateTimeOffset asOf);

    /// <summary>Up to <paramref name="limit"/> events starting at <paramref name="fromVersion"/>, or null when the order does not exist.</summary>
    [Alias("get-events")]
    Task<EventPage?> GetEvents(int fromVersion, int limit);
}
