using OrderFlow.Customers.Events;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Customers;

/// <summary>
/// The customers' event source: category "customer" (their own events table, see
/// <see cref="EventStore.EventStoreOptions.TableNameOf"/>), published as
/// <see cref="CustomerEventEnvelope"/> on <see cref="CustomerEventStreams.Namespace"/>.
/// </summary>
public sealed class CustomerEventSource : EventSource<CustomerState, CustomerEvent, CustomerEventEnvelope>
{
    public const string CategoryName = "customer";

    public static CustomerEventSource Instance { get; } = new();

    private CustomerEventSource()
    {
    }

    public override string Category => CategoryName;

    public override string StreamNamespace => CustomerEventStreams.Namespace;

    public override string StreamKeyOf(string streamId) => CustomerEventStreams.StreamKey(CustomerEventStreams.ShardOf(streamId));

    public override string SnapshotType => "CustomerState";

    public override DateTimeOffset OccurredAtOf(CustomerEvent @event) => @event.OccurredAt;

    /// <summary>Envelopes carry no personal data: the country and the registration time are what consumers join on.</summary>
    public override List<CustomerEventEnvelope> Build(string streamId, CustomerState before, IReadOnlyList<CustomerEvent> events, int firstVersion, IReadOnlyList<Guid> eventIds)
    {
        var state = before.Copy();
        var envelopes = new List<CustomerEventEnvelope>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            state.Apply(events[i]);
            envelopes.Add(new CustomerEventEnvelope(
                streamId,
                firstVersion + i,
                eventIds[i],
                EventSerializer<CustomerEvent>.TypeName(events[i]),
                events[i].OccurredAt,
                state.Country,
                state.RegisteredAt));
        }

        return envelopes;
    }

    public override int VersionOf(CustomerEventEnvelope envelope) => envelope.Version;

    public override string TypeOf(CustomerEventEnvelope envelope) => envelope.Type;

    public override CustomerEventEnvelope WithRecordedAt(CustomerEventEnvelope envelope, DateTimeOffset recordedAt) => envelope with { RecordedAt = recordedAt };

    public override CustomerEventEnvelope WithTraceParent(CustomerEventEnvelope envelope, string? traceParent) => envelope with { TraceParent = traceParent };
}
