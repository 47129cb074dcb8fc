using OrderFlow.Grains.EventSourcing;

namespace OrderFlow.Grains.Projections;

/// <summary>
/// What is done with each registered category (<see cref="EventCategories.All"/>) in turn, with
/// its types known: reading its log back, feeding its envelopes (the rebuild).
/// </summary>
public interface IEventCategoryVisitor<out TResult>
{
    TResult Visit<TState, TEvent, TEnvelope>(EventSource<TState, TEvent, TEnvelope> source, EventCategory<TEnvelope> category)
        where TState : class, IEventSourcedState<TState, TEvent>, new()
        where TEvent : class;
}
