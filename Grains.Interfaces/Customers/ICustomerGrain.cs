using OrderFlow.Customers.Commands;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Customers;

/// <summary>
/// One customer, event-sourced like an order: every command appends its events to the customer's
/// own log in one storage transaction. The grain key is the customer id. Orders stay independent:
/// an order may name a customer that registers later.
/// </summary>
[Alias("orderflow.customer-grain")]
public interface ICustomerGrain : IGrainWithStringKey
{
    /// <summary>Validates the command against the customer's state and, when allowed, appends the resulting events. A refused command writes nothing.</summary>
    /// <exception cref="Storage.StorageUnavailableException">The event log could not be reached or did not answer in time.</exception>
    [Alias("execute")]
    Task<CustomerCommandResult> Execute(CustomerCommand command, CommandMetadata metadata);

    /// <summary>The customer now, or null when they have not registered.</summary>
    [Alias("get")]
    Task<CustomerView?> Get();

    /// <summary>The customer as they stood at event time <paramref name="asOf"/> (inclusive), or null when not registered yet.</summary>
    [Alias("get-as-of")]
    Task<CustomerView?> GetAsOf(DateTimeOffset asOf);

    /// <summary>Up to <paramref name="limit"/> events starting at <paramref name="fromVersion"/>, or null when the customer does not exist.</summary>
    [Alias("get-events")]
    Task<EventPage?> GetEvents(int fromVersion, int limit);
}
