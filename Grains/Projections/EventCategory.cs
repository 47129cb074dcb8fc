using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections;

/// <summary>
/// One stream category (an aggregate type) as the projection machinery handles it, whatever its
/// envelopes: its name, how its failures are parked, and its event source and envelopes through
/// <see cref="Accept{TResult}"/>. Registered in <see cref="EventCategories"/>, which the rebuild
/// and the read-back go through; declared as an <see cref="EventSourceCategory{TState,TEvent,TEnvelope}"/>.
/// </summary>
public abstract class EventCategory
{
    private protected EventCategory()
    {
    }

    /// <summary>The event store's name of the category (its event source's <c>Category</c>): names it in change rows, errors and descriptions ("order").</summary>
    public abstract string Name { get; }

    /// <summary>How a stream of the category whose log cannot be read back is parked (its key: the stream id).</summary>
    public required ParkedKind ParkedStreamKind { get; init; }

    /// <summary>
    /// How one unreadable event of the category is parked on its own (its key: the stream id and the
    /// version, <see cref="Parking.ParkedRecordsGrain.EventKey"/>; the events before it are counted);
    /// null: the stream is parked whole (<see cref="ParkedStreamKind"/>).
    /// </summary>
    public ParkedKind? ParkedEventKind { get; init; }

    /// <summary>Calls <paramref name="visitor"/> with the category's event source and envelopes, typed.</summary>
    public abstract TResult Accept<TResult>(IEventCategoryVisitor<TResult> visitor);
}

/// <summary>
/// One stream category as projections receive it: its envelopes, the event types that can be in
/// them (by stored name), and how to read an envelope's type and identity.
/// </summary>
/// <typeparam name="TEnvelope">What the category's streams carry to projections.</typeparam>
public abstract class EventCategory<TEnvelope> : EventCategory
{
    private protected EventCategory()
    {
    }

    /// <summary>The Orleans stream namespace its envelopes travel on.</summary>
    public abstract string StreamNamespace { get; }

    /// <summary>The stored names of every event type of the category.</summary>
    public abstract IReadOnlySet<string> StoredNames { get; }

    /// <summary>The envelope's event type, by stored name.</summary>
    public abstract string TypeOf(TEnvelope envelope);

    /// <summary>The envelope's stream (aggregate id) and version: what a projection counts it once by.</summary>
    public required Func<TEnvelope, (string StreamId, int Version)> IdentityOf { get; init; }

    /// <summary>
    /// What makes the envelope one that no projection can count (a field a bad record lacks), or
    /// null: checked before any projection touches its state, so that such an event changes nothing
    /// and fails again at every retry.
    /// </summary>
    public required Func<TEnvelope, string?> DefectOf { get; init; }

    /// <summary>When the log recorded the event, if the envelope says: the start of the projections' lag.</summary>
    public required Func<TEnvelope, DateTimeOffset?> RecordedAtOf { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the event's publication, if traced: the projections' span joins that trace.</summary>
    public required Func<TEnvelope, string?> TraceParentOf { get; init; }
}
