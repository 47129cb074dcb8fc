using System.Text.Json.Serialization;
using OrderFlow.Customers;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.Customers;

/// <summary>
/// A customer's state: a left fold of their events through <see cref="Apply"/>. Mutable because
/// JournaledGrain folds in place; serialized as JSON in snapshots, hence public setters.
/// </summary>
[GenerateSerializer, Alias("orderflow.customer-state")]
public sealed class CustomerState : IEventSourcedState<CustomerState, CustomerEvent>
{
    [Id(0)] public string CustomerId { get; set; } = string.Empty;
    [Id(1), PersonalData] public string? Name { get; set; }
    [Id(2), PersonalData] public string? Email { get; set; }
    [Id(3)] public string Country { get; set; } = string.Empty;

    /// <summary>Event time of the registration: the join key of risk rules by account age.</summary>
    [Id(4)] public DateTimeOffset RegisteredAt { get; set; }

    /// <summary>Event time of the latest event: a new event may not be earlier.</summary>
    [Id(5)] public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The personal data was erased: name and email are gone from the state (and from every snapshot after).</summary>
    [Id(6)] public bool Erased { get; set; }

    /// <summary>
    /// The customer's log has events: a registration, or the erasure of a data subject who never
    /// registered (named only by orders; their log starts with the erasure).
    /// </summary>
    public bool Exists => Registered || Erased;

    /// <summary>The customer registered (an erased subject may never have).</summary>
    [JsonIgnore]
    public bool Registered => CustomerId.Length > 0;

    /// <summary>A copy that folds on independently: every member is a value or an immutable string.</summary>
    public CustomerState Copy() => (CustomerState)MemberwiseClone();

    public void Apply(CustomerEvent @event)
    {
        switch (@event)
        {
            case CustomerRegistered registered:
                CustomerId = registered.CustomerId;
                Name = registered.Name;
                Email = registered.Email;
                Country = registered.Country;
                RegisteredAt = registered.OccurredAt;
                break;
            case CustomerProfileChanged changed:
                Name = changed.Name ?? Name;
                Email = changed.Email ?? Email;
                Country = changed.Country ?? Country;
                break;
            case CustomerPersonalDataErased:
                Name = null;
                Email = null;
                Erased = true;
                break;
            default:
                throw new InvalidOperationException($"CustomerState cannot apply {@event.GetType().Name}.");
        }

        UpdatedAt = @event.OccurredAt;
    }

    /// <summary>The view of customer <paramref name="customerId"/> (the stream's id: the state has none when they never registered).</summary>
    public CustomerView ToView(string customerId, int version) => new(
        customerId, Erased ? null : Name, Erased ? null : Email, Registered ? Country : null, version, Registered ? RegisteredAt : null, UpdatedAt, Erased);
}
