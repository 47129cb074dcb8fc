using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json.Nodes;
using OrderFlow.EventTypes;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.PersonalData;
using OrderFlow.Streams;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// README "Schema versions": every order event type is declared once (stored name, schema
/// version) and reaches every place that must know it. Each test goes over the types derived
/// from <see cref="OrderEvent"/> by reflection, so a new event type that is missing somewhere fails here.
/// </summary>
public sealed class EventTypeRegistryTests
{
    private static readonly DateTimeOffset At = OrderBuilder.Start;

    public static TheoryData<Type> EventClrTypes() =>
        [.. typeof(OrderEvent).Assembly.GetTypes().Where(type => !type.IsAbstract && type.IsAssignableTo(typeof(OrderEvent)))];

    [Fact]
    public void Every_event_type_declares_its_stored_name()
    {
        Assert.Empty(EventTypeRegistry<OrderEvent>.Undeclared);
        Assert.Equal(EventClrTypes().Count, EventTypeRegistry<OrderEvent>.All.Count);
    }

    /// <summary>Rows already stored carry these names and versions: changing one would leave them unreadable.</summary>
    [Fact]
    public void Stored_names_are_the_ones_existing_rows_carry()
    {
        Assert.Equal(
            [
                ("OrderCancelled", typeof(OrderCancelled), 1),
                ("OrderDelivered", typeof(OrderDelivered), 1),
                ("OrderPaid", typeof(OrderPaid), 1),
                ("OrderPlaced", typeof(OrderPlaced), 2),
                ("OrderRefunded", typeof(OrderRefunded), 1),
                ("OrderShipped", typeof(OrderShipped), 1),
            ],
            EventTypeRegistry<OrderEvent>.All.Select(type => (type.StoredName, type.ClrType, type.SchemaVersion)));
    }

    [Theory]
    [MemberData(nameof(EventClrTypes))]
    public void Every_event_type_has_an_Apply_case(Type type)
    {
        var state = new OrderState();

        state.Apply(Sample(type));

        Assert.Equal(At, state.UpdatedAt);
    }

    [Theory]
    [MemberData(nameof(EventClrTypes))]
    public void Every_event_type_has_an_envelope_mapping_under_its_stored_name(Type type)
    {
        var envelope = Assert.Single(OrderEventEnvelopes.Build(new OrderState(), [Sample(type)], 1, [Guid.NewGuid()]));

        Assert.Equal(EventTypeRegistry<OrderEvent>.Of(type).StoredName, envelope.Type);
    }

    [Theory]
    [MemberData(nameof(EventClrTypes))]
    public void Every_event_type_round_trips_through_its_stored_form(Type type)
    {
        var @event = Sample(type);

        var back = OrderEventSerializer.Deserialize(
            OrderEventSerializer.TypeName(@event), OrderEventSerializer.SchemaVersionOf(@event), OrderEventSerializer.Serialize(@event));

        Assert.Equal(type, back.GetType());
        Assert.Equal(OrderEventSerializer.Serialize(@event), OrderEventSerializer.Serialize(back));
    }

    /// <summary>An event type at version N reads versions 1 to N − 1 through its upcaster, one step each.</summary>
    [Theory]
    [MemberData(nameof(EventClrTypes))]
    public void Every_older_schema_version_has_an_upcasting_step(Type type)
    {
        var declared = EventTypeRegistry<OrderEvent>.Of(type);
        var upcaster = EventUpcasters.For(type);
        if (declared.SchemaVersion == 1)
        {
            Assert.Null(upcaster);
            return;
        }

        Assert.NotNull(upcaster);
        for (var version = 1; version < declared.SchemaVersion; version++)
        {
            upcaster.Upcast(version, []);
        }

        Assert.Throws<InvalidDataException>(() => upcaster.Upcast(declared.SchemaVersion, []));
    }

    [Fact]
    public void A_version_1_placement_reads_as_an_order_without_an_address()
    {
        const string version1 = """{"orderId":"o-1","customerId":"c-1","currency":"EUR","items":[{"sku":"s","quantity":2,"unitPrice":1.25}],"total":2.5,"occurredAt":"2026-11-01T08:00:00+00:00"}""";

        var placed = Assert.IsType<OrderPlaced>(OrderEventSerializer.Deserialize(OrderPlaced.StoredName, 1, version1));

        Assert.Null(placed.ShippingAddress);
        Assert.Equal(("o-1", "c-1", 2.5m, At), (placed.OrderId, placed.CustomerId, placed.Total, placed.OccurredAt));
        Assert.Equal([new OrderLine("s", 2, 1.25m)], placed.Items);
    }

    /// <summary>Personal data stays out of what projections receive (so encrypting it touches only the serializer).</summary>
    [Fact]
    public void The_stream_envelope_carries_no_personal_data()
    {
        var personal = typeof(OrderEvent).Assembly.GetTypes()
            .SelectMany(type => type.GetProperties())
            .Where(property => property.GetCustomAttribute<PersonalDataAttribute>() is not null)
            .ToList();

        // A personal type (an address) must not travel at all; a personal string (a name) not under its name.
        var types = personal.Select(property => Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType).Where(type => type != typeof(string)).ToHashSet();
        var names = personal.Select(property => property.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Contains(typeof(ShippingAddress), types);
        Assert.Contains("Email", names);
        Assert.All([typeof(OrderEventEnvelope), typeof(CustomerEventEnvelope)], envelope =>
            Assert.DoesNotContain(envelope.GetProperties(), property => types.Contains(property.PropertyType) || names.Contains(property.Name)));
    }

    /// <summary>An instance of <paramref name="type"/> through its constructor, every parameter given a plain value.</summary>
    private static OrderEvent Sample(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        return (OrderEvent)constructor.Invoke([.. constructor.GetParameters().Select(parameter => Value(parameter.ParameterType))]);
    }

    private static object? Value(Type type) => type switch
    {
        _ when type == typeof(DateTimeOffset) => At,
        _ when type == typeof(string) => "x",
        _ when type == typeof(decimal) => 1m,
        _ when type == typeof(int) => 1,
        _ when type == typeof(ImmutableArray<OrderLine>) => ImmutableArray.Create(new OrderLine("s", 1, 1m)),
        _ when type == typeof(ShippingAddress) => new ShippingAddress("r", "l1", null, "c", "p", "DE"),
        _ => throw new InvalidOperationException($"Add a sample value for {type.Name}."),
    };
}
