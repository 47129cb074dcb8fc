namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// The state of an event-sourced aggregate: a left fold of its events through <see cref="Apply"/>,
/// starting from a new instance. Mutable, because JournaledGrain folds in place.
/// </summary>
public interface IEventSourcedState<TSelf, TEvent>
    where TSelf : class, IEventSourcedState<TSelf, TEvent>, new()
    where TEvent : class
{
    /// <summary>False until the aggregate's first event: a new aggregate.</summary>
    bool Exists { get; }

    /// <summary>Event time of the latest event applied (a snapshot's <see cref="EventStore.Snapshot.LastOccurredAt"/>).</summary>
    DateTimeOffset UpdatedAt { get; }

    /// <summary>Folds one event in; an event the state has no case for is a bug and throws.</summary>
    void Apply(TEvent @event);

    /// <summary>A copy that folds on independently (envelopes and snapshots are built on one).</summary>
    TSelf Copy();
}
