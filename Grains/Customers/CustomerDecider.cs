using OrderFlow.Customers.Commands;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Orders;
using CustomerDecision = OrderFlow.Grains.EventSourcing.Decision<OrderFlow.Customers.Events.CustomerEvent>;

namespace OrderFlow.Grains.Customers;

/// <summary>
/// The customer's business rules as a pure function: (state, command, clock) → decision. The grain
/// appends what this returns; tests drive it directly.
/// </summary>
public static class CustomerDecider
{
    public static CustomerDecision Decide(CustomerState state, string customerId, CustomerCommand command, DateTimeOffset now)
    {
        var errors = CustomerCommandValidator.Validate(command, now);
        if (command is RegisterCustomer { CustomerId: { } requestedId } && requestedId != customerId && !errors.ContainsKey("customerId"))
        {
            errors["customerId"] = [$"must be the id of the customer it is sent to ('{customerId}')"];
        }

        if (errors.Count > 0)
        {
            return CustomerDecision.RefuseFields(errors);
        }

        if (command is RegisterCustomer register)
        {
            // A subject erased before registering is not registered: the registration's personal data is then refused (422) where it would be sealed.
            if (state.Registered)
            {
                return CustomerDecision.Refuse(CommandErrorCode.AlreadyExists, $"Customer '{customerId}' already exists.");
            }

            // The validator requires these; a null here is refused, never a crash.
            return register is { Name: { } name, Email: { } email, Country: { } country }
                ? CustomerDecision.Append(new CustomerRegistered(EventTime(command, now, state), customerId, name, email, country))
                : Invalid(new() { ["$"] = ["name, email and country are required"] });
        }

        if (command is ErasePersonalData { ErasedBy: var erasedBy })
        {
            // Any data subject may be erased, registered or not: orders may name a customer who never registered.
            if (state.Erased)
            {
                return CustomerDecision.Applied; // erasure is idempotent: the first one is the record
            }

            if (string.IsNullOrWhiteSpace(erasedBy))
            {
                return Invalid(new() { ["erasedBy"] = ["is required"] });
            }
        }
        else if (!state.Exists)
        {
            return CustomerDecision.Refuse(CommandErrorCode.NotFound, $"Customer '{customerId}' does not exist.");
        }

        var occurredAt = EventTime(command, now, state);
        if (occurredAt < state.UpdatedAt)
        {
            return Invalid(new() { ["occurredAt"] = [$"must not be before the customer's previous event ({state.UpdatedAt:O})"] });
        }

        switch (command)
        {
            case ErasePersonalData erase:
                return CustomerDecision.Append(new CustomerPersonalDataErased(occurredAt, erase.ErasedBy!));
            case ChangeCustomerProfile when state.Erased:
                return CustomerDecision.Refuse(
                    CommandErrorCode.InvalidTransition, $"Customer '{customerId}' had their personal data erased: the profile can no longer be changed.");
            case ChangeCustomerProfile change:
                // Only what differs is recorded; a change of nothing is refused, as an empty one is.
                var name = change.Name is { } newName && newName != state.Name ? newName : null;
                var email = change.Email is { } newEmail && newEmail != state.Email ? newEmail : null;
                var country = change.Country is { } newCountry && newCountry != state.Country ? newCountry : null;
                return name is null && email is null && country is null
                    ? Invalid(new() { ["$"] = ["must change at least one of name, email or country"] })
                    : CustomerDecision.Append(new CustomerProfileChanged(occurredAt, name, email, country));
            default:
                throw new InvalidOperationException($"No rule decides {command.GetType().Name}.");
        }
    }

    /// <summary>Event time (<see cref="EventTimes.Of"/>): never before the customer's previous event unless given.</summary>
    public static DateTimeOffset EventTime(CustomerCommand command, DateTimeOffset now, CustomerState state) =>
        EventTimes.Of(command.OccurredAt, now, state.Exists ? state.UpdatedAt : null);

    /// <summary>Fields refused after the state was looked at (an event time before the previous event, a change of nothing, a field a repeat would not need).</summary>
    private static CustomerDecision Invalid(Dictionary<string, string[]> errors) =>
        CustomerDecision.Refuse(CommandErrorCode.Validation, "The command has invalid fields.", errors);
}
