using System.Collections.Frozen;
using OrderFlow.EventTypes;

namespace OrderFlow.Grains.Projections;

/// <summary>
/// One stream category (an aggregate type) as projections receive it: its envelopes, the event
/// types that can be in them (by stored name, from <see cref="EventTypeRegistry{TEvent}"/>), and
/// how to read an envelope's type and identity. Instances: <see cref="EventCategories"/> (named as the event store names them, <see cref="EventStore.StreamCategories"/>).
/// </summary>
/// <typeparam name="TEnvelope">What the category's streams carry to projections.</typeparam>
public sealed class EventCategory<TEnvelope>
{
    /// <summary>Names the category in errors and descriptions ("order").</summary>
    public required string Name { get; init; }

    /// <summary>The Orleans stream namespace its envelopes travel on.</summary>
    public required string StreamNamespace { get; init; }

    /// <summary>Every event type of the category, as stored.</summary>
    public required IReadOnlyList<EventType> EventTypes
    {
        get;
        init
        {
            field = value;
            StoredNames = value.Select(type => type.StoredName).ToFrozenSet(StringComparer.Ordinal);
        }
    }

    /// <summary>The stored names of <see cref="EventTypes"/>.</summary>
    public IReadOnlySet<string> StoredNames { get; private init; } = FrozenSet<string>.Empty;

    /// <summary>The envelope's event type, by stored name.</summary>
    public required Func<TEnvelope, string> TypeOf { get; init; }

    /// <summary>The envelope's stream (aggregate id) and version: what a projection counts it once by.</summary>
    public required Func<TEnvelope, (string StreamId, int Version)> IdentityOf { get; init; }

    /// <summary>When the log recorded the event, if the envelope says: the start of the projections' lag.</summary>
    public required Func<TEnvelope, DateTimeOffset?> RecordedAtOf { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the event's publication, if traced: the projections' span joins that trace.</summary>
    public required Func<TEnvelope, string?> TraceParentOf { get; init; }
}
