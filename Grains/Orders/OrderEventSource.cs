using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Orders;

/// <summary>The orders' event source: the events table itself, the order-event stream namespace, <see cref="OrderEventEnvelopes"/>.</summary>
public sealed class OrderEventSource : EventSource<OrderState, OrderEvent, OrderEventEnvelope>
{
    public static OrderEventSource Instance { get; } = new();

    private OrderEventSource()
    {
    }

    public override string Category => StreamCategories.Order;

    public override string StreamNamespace => OrderEventStreams.Namespace;

    public override string StreamKeyOf(string streamId) => OrderEventStreams.StreamKey(OrderEventStreams.ShardOf(streamId));

    public override string SnapshotType => OrderEventSerializer.SnapshotType;

    public override int SnapshotSchemaVersion => OrderEventSerializer.SnapshotSchemaVersion;

    public override DateTimeOffset OccurredAtOf(OrderEvent @event) => @event.OccurredAt;

    /// <summary>An order's personal data (its shipping address) is its customer's.</summary>
    public override string SubjectOf(string streamId, OrderState before, OrderEvent @event) =>
        @event is OrderPlaced placed ? placed.CustomerId : before.CustomerId;

    public override string SubjectOf(string streamId, OrderState state) => state.CustomerId;

    /// <summary>With the refunds of snapshots written before refund rows existed (<see cref="OrderState.Fold"/>).</summary>
    public override OrderState Fold(StreamSlice slice) => OrderState.Fold(slice);

    public override List<OrderEventEnvelope> Build(string streamId, OrderState before, IReadOnlyList<OrderEvent> events, int firstVersion, IReadOnlyList<Guid> eventIds) =>
        OrderEventEnvelopes.Build(before, events, firstVersion, eventIds);

    public override int VersionOf(OrderEventEnvelope envelope) => envelope.Version;

    public override string TypeOf(OrderEventEnvelope envelope) => envelope.Type;

    public override OrderEventEnvelope WithRecordedAt(OrderEventEnvelope envelope, DateTimeOffset recordedAt) => envelope with { RecordedAt = recordedAt };

    public override OrderEventEnvelope WithTraceParent(OrderEventEnvelope envelope, string? traceParent) => envelope with { TraceParent = traceParent };
}
