using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// One row of a projection's journal (<see cref="IJournaledProjectionState"/>): the events its
/// state counted since the previous write, and the state's own bookkeeping as it stood at this
/// write (<see cref="Side"/>), which the events alone do not give back.
/// </summary>
[GenerateSerializer, Alias("orderflow.projection-journal-entry")]
public sealed class ProjectionJournalEntry
{
    [Id(0)] public List<OrderEventEnvelope> OrderEvents { get; set; } = [];

    [Id(1)] public List<CustomerEventEnvelope> CustomerEvents { get; set; } = [];

    /// <summary>What the state keeps besides its counts (a day's pushes to its month, a customer's alerts as sent to the feed), taken whole; applied after the events.</summary>
    [Id(2)] public object? Side { get; set; }

    /// <summary>When the write began: what the events were counted at, for state that remembers when it saw something.</summary>
    [Id(3)] public DateTimeOffset At { get; set; }

    /// <summary>More was counted than a journal row should hold, and the events were not kept: this write must be a snapshot.</summary>
    [Id(4)] public bool Overflowed { get; set; }

    /// <summary>Fewer bytes than the entry serializes to, whatever its events: an envelope holds at least an event id, a version, a type and an event time.</summary>
    public int MinimumBytes => (OrderEvents.Count + CustomerEvents.Count) * 32;
}
