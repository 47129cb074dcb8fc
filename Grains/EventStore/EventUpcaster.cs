using System.Text.Json.Nodes;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// The one place that reads the old schema versions of one event type: each step turns the
/// stored JSON of version N into version N + 1. <see cref="EventUpcasters"/> finds every
/// upcaster in this assembly and chains the steps up to the version the type declares now.
/// </summary>
public abstract class EventUpcaster
{
    /// <summary>The event type whose old versions this upcaster reads.</summary>
    public abstract Type EventType { get; }

    /// <summary>Turns <paramref name="data"/>, of schema version <paramref name="version"/>, into version + 1 in place.</summary>
    /// <exception cref="InvalidDataException">There is no step from <paramref name="version"/>.</exception>
    public abstract void Upcast(int version, JsonObject data);
}
