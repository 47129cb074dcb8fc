using System.Collections.Frozen;
using OrderFlow.EventTypes;
using OrderFlow.Grains.EventSourcing;

namespace OrderFlow.Grains.Projections;

/// <summary>
/// The category of an event source (<see cref="EventSource{TState,TEvent,TEnvelope}"/>), as it is
/// registered in <see cref="EventCategories"/>: its name, stream namespace, event types (from
/// <see cref="EventTypeRegistry{TEvent}"/>) and envelope types come from the source; the entry
/// declares what the source does not know (how its envelopes are read and its failures parked).
/// </summary>
public sealed class EventSourceCategory<TState, TEvent, TEnvelope> : EventCategory<TEnvelope>
    where TState : class, IEventSourcedState<TState, TEvent>, new()
    where TEvent : class
{
    public required EventSource<TState, TEvent, TEnvelope> Source { get; init; }

    public override string Name => Source.Category;

    public override string StreamNamespace => Source.StreamNamespace;

    public override IReadOnlySet<string> StoredNames { get; } =
        EventTypeRegistry<TEvent>.All.Select(type => type.StoredName).ToFrozenSet(StringComparer.Ordinal);

    public override string TypeOf(TEnvelope envelope) => Source.TypeOf(envelope);

    public override TResult Accept<TResult>(IEventCategoryVisitor<TResult> visitor) => visitor.Visit(Source, this);
}
