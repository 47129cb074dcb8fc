using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Customers.Events;
using OrderFlow.EventTypes;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// The customer aggregate without storage: every customer event type reaches every place that must
/// know it (found by reflection, so a new one missing somewhere fails here), and the decider's rules.
/// </summary>
public sealed class CustomerAggregateTests
{
    private const string CustomerId = "customer-1";

    private static readonly DateTimeOffset At = new(2026, 11, 20, 9, 30, 0, TimeSpan.Zero);

    public static TheoryData<Type> EventClrTypes() =>
        [.. typeof(CustomerEvent).Assembly.GetTypes().Where(type => !type.IsAbstract && type.IsAssignableTo(typeof(CustomerEvent)))];

    /// <summary>
    /// A fold of what storage holds strips sealed members ("pd2.…"); a fold of a revealed slice holds
    /// the subject's own text, which may begin the same way and must be kept (snapshot and events).
    /// </summary>
    [Fact]
    public void A_revealed_slice_keeps_personal_text_that_reads_like_a_sealed_value()
    {
        var at = At;
        var registered = new CustomerState();
        registered.Apply(new CustomerRegistered(at, CustomerId, "pd2.a.b.c", "pd1.ada@example.com", "GB"));
        var snapshot = new Snapshot(1, "customer", 1, at, CustomerEventSource.Instance.SerializeState(registered));
        var change = new CustomerProfileChanged(at, null, "pd2.ada@example.com", null);
        var changed = new StoredEvent(2, Guid.NewGuid(), EventSerializer<CustomerEvent>.TypeName(change), EventSerializer<CustomerEvent>.SchemaVersionOf(change), at, at, null, null,
            EventSerializer<CustomerEvent>.Serialize(change));

        var stored = CustomerEventSource.Instance.Fold(new StreamSlice(snapshot, [changed]));
        var revealed = CustomerEventSource.Instance.Fold(new StreamSlice(snapshot, [changed]) { Revealed = true });

        Assert.Equal((null, null), (stored.Name, stored.Email));
        Assert.Equal(("pd2.a.b.c", "pd2.ada@example.com"), (revealed.Name, revealed.Email));
    }

    [Fact]
    public void Every_event_type_declares_its_stored_name()
    {
        Assert.Empty(EventTypeRegistry<CustomerEvent>.Undeclared);
        Assert.Equal(
            ["CustomerPersonalDataErased", "CustomerProfileChanged", "CustomerRegistered"],
            EventTypeRegistry<CustomerEvent>.All.Select(type => type.StoredName));
    }

    [Theory]
    [MemberData(nameof(EventClrTypes))]
    public void Every_event_type_has_an_Apply_case_an_envelope_mapping_and_round_trips(Type type)
    {
        var @event = Sample(type);
        var state = new CustomerState();
        state.Apply(@event);
        Assert.Equal(At, state.UpdatedAt);

        var envelope = Assert.Single(CustomerEventSource.Instance.Build("c-1", new CustomerState(), [@event], 1, [Guid.NewGuid()]));
        Assert.Equal(EventTypeRegistry<CustomerEvent>.Of(type).StoredName, envelope.Type);

        var json = EventSerializer<CustomerEvent>.Serialize(@event);
        Assert.Equal(@event, EventSerializer<CustomerEvent>.Deserialize(envelope.Type, EventSerializer<CustomerEvent>.SchemaVersionOf(@event), json));
    }

    [Fact]
    public void Registration_is_refused_when_the_customer_exists_or_the_id_is_another()
    {
        var state = Registered();

        Assert.Equal(CommandErrorCode.AlreadyExists, Decide(state, Register()).Error?.Code);
        var other = Decide(new CustomerState(), Register() with { CustomerId = "customer-2" });
        Assert.Equal(CommandErrorCode.Validation, other.Error?.Code);
        Assert.Contains("customerId", other.Error!.Errors!.Keys);
    }

    [Fact]
    public void Missing_members_are_refused_as_invalid_not_a_crash()
    {
        Assert.Equal(CommandErrorCode.Validation, Decide(new CustomerState(), new RegisterCustomer(null, null, null, null)).Error?.Code);
        Assert.Equal(CommandErrorCode.Validation, Decide(Registered(), new ChangeCustomerProfile(null, null, null)).Error?.Code);
        Assert.Equal(CommandErrorCode.Validation, Decide(Registered(), new ErasePersonalData(null)).Error?.Code);
    }

    [Fact]
    public void A_profile_change_needs_a_registered_customer_and_something_to_change()
    {
        Assert.Equal(CommandErrorCode.NotFound, Decide(new CustomerState(), new ChangeCustomerProfile(null, null, "FR")).Error?.Code);
        Assert.Equal(CommandErrorCode.Validation, Decide(Registered(), new ChangeCustomerProfile("Ada Lovelace", null, "GB")).Error?.Code);

        var changed = Assert.IsType<CustomerProfileChanged>(Assert.Single(Decide(Registered(), new ChangeCustomerProfile("Ada Lovelace", null, "FR", At.AddHours(1))).Events));
        Assert.Equal((null, null, "FR"), (changed.Name, changed.Email, changed.Country));
    }

    [Fact]
    public void A_data_subject_who_never_registered_is_erased_and_stays_unregistered()
    {
        var state = new CustomerState();
        var erased = Assert.IsType<CustomerPersonalDataErased>(Assert.Single(Decide(state, new ErasePersonalData("admin")).Events));
        state.Apply(erased);

        Assert.Equal((true, false, true), (state.Exists, state.Registered, state.Erased));
        Assert.Equal(new CustomerView(CustomerId, null, null, null, 1, null, erased.OccurredAt, Erased: true), state.ToView(CustomerId, 1));
        Assert.True(Decide(state, new ErasePersonalData("admin")).AlreadyApplied);
        Assert.Equal(CommandErrorCode.InvalidTransition, Decide(state, new ChangeCustomerProfile(null, null, "FR")).Error?.Code);
        // The decider lets the registration through; sealing its name and email is what refuses it (no new key for an erased subject).
        Assert.IsType<CustomerRegistered>(Assert.Single(Decide(state, Register()).Events));
    }

    [Fact]
    public void Erasure_is_recorded_once_with_who_asked()
    {
        var state = Registered();
        var erased = Assert.IsType<CustomerPersonalDataErased>(Assert.Single(Decide(state, new ErasePersonalData("admin", At.AddDays(1))).Events));
        Assert.Equal("admin", erased.ErasedBy);
        state.Apply(erased);
        Assert.Equal((null, null, true), (state.Name, state.Email, state.Erased));

        var again = Decide(state, new ErasePersonalData("admin"));
        Assert.True(again.AlreadyApplied);
        Assert.Empty(again.Events);
    }

    [Fact]
    public void An_event_time_before_the_previous_event_is_refused()
    {
        var refused = Decide(Registered(), new ChangeCustomerProfile(null, null, "FR", At.AddSeconds(-1)));
        Assert.Equal(CommandErrorCode.Validation, refused.Error?.Code);
        Assert.Contains("occurredAt", refused.Error!.Errors!.Keys);
    }

    private static RegisterCustomer Register() => new(CustomerId, "Ada Lovelace", "ada@example.com", "GB", At);

    private static Decision<CustomerEvent> Decide(CustomerState state, CustomerCommand command) => CustomerDecider.Decide(state, CustomerId, command, At.AddDays(2));

    private static CustomerState Registered()
    {
        var state = new CustomerState();
        foreach (var @event in Decide(state, Register()).Events)
        {
            state.Apply(@event);
        }

        Assert.True(state.Exists);
        return state;
    }

    /// <summary>An instance of <paramref name="type"/> through its constructor, every parameter given a plain value.</summary>
    private static CustomerEvent Sample(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        return (CustomerEvent)constructor.Invoke([.. constructor.GetParameters().Select(parameter =>
            parameter.ParameterType == typeof(DateTimeOffset) ? (object)At : "x")]);
    }
}
