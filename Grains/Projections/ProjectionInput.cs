using System.Collections.Frozen;

namespace OrderFlow.Grains.Projections;

/// <summary>What a projection consumes of one stream category: which events, and the key of the grain that counts each.</summary>
public abstract class ProjectionInput
{
    private protected ProjectionInput()
    {
    }

    /// <summary>The category's name (<see cref="EventCategory.Name"/>).</summary>
    public abstract string Category { get; }

    /// <summary>The events consumed, by stored name.</summary>
    public abstract IReadOnlySet<string> Events { get; }

    /// <summary>Consumed names the category does not declare (none in a correct build: a test checks).</summary>
    public abstract IEnumerable<string> Undeclared { get; }
}

/// <param name="keyOf">The key of the grain of generation (first argument) that counts the envelope; starts with the generation (<c>StatisticsKeys</c>).</param>
public sealed class ProjectionInput<TEnvelope>(EventCategory<TEnvelope> category, IEnumerable<string> events, Func<int, TEnvelope, string> keyOf)
    : ProjectionInput
{
    public EventCategory<TEnvelope> Of => category;

    public override string Category => category.Name;

    public override IReadOnlySet<string> Events { get; } = events.ToFrozenSet(StringComparer.Ordinal);

    public override IEnumerable<string> Undeclared => Events.Where(name => !category.StoredNames.Contains(name));

    public bool Consumes(TEnvelope envelope) => Events.Contains(category.TypeOf(envelope));

    public string KeyOf(int generation, TEnvelope envelope) => keyOf(generation, envelope);
}
