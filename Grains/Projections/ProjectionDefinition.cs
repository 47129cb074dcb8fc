namespace OrderFlow.Grains.Projections;

/// <summary>
/// One projection as the machinery sees it: the grain type its state lives in (pinned with
/// <see cref="GrainTypeAttribute"/>; every key of it starts with a generation), and what it
/// consumes of each stream category. Declared next to its grain and listed in
/// <see cref="ProjectionRegistry.All"/>; stream routing, the feed of rebuilds and reconciliations,
/// and the janitor of old generations read it from there.
/// </summary>
/// <remarks>
/// A projection fed only by other projections (a month by its days) consumes nothing, and is
/// declared all the same: its state belongs to a generation.
/// </remarks>
public sealed class ProjectionDefinition
{
    private ProjectionDefinition(string grainType, IReadOnlyList<ProjectionInput> inputs, Func<string, string>? describeKey)
    {
        GrainType = grainType;
        Inputs = inputs;
        DescribeKey = describeKey;
    }

    public string GrainType { get; }

    public IReadOnlyList<ProjectionInput> Inputs { get; }

    /// <summary>A key of the grain type in plain words (for the parked list); null: "{type} {key}".</summary>
    public Func<string, string>? DescribeKey { get; }

    /// <summary>A projection of grain type <paramref name="grainType"/> that consumes nothing yet.</summary>
    public static ProjectionDefinition Of(string grainType) => new(grainType, [], null);

    /// <summary>Also consumes <paramref name="events"/> (stored names) of <paramref name="category"/>, each counted by the grain <paramref name="keyOf"/> names.</summary>
    public ProjectionDefinition Consumes<TEnvelope>(EventCategory<TEnvelope> category, IEnumerable<string> events, Func<int, TEnvelope, string> keyOf) =>
        new(GrainType, [.. Inputs, new ProjectionInput<TEnvelope>(category, events, keyOf)], DescribeKey);

    /// <summary>Also consumes every event of <paramref name="category"/>.</summary>
    public ProjectionDefinition ConsumesAll<TEnvelope>(EventCategory<TEnvelope> category, Func<int, TEnvelope, string> keyOf) =>
        Consumes(category, category.StoredNames, keyOf);

    public ProjectionDefinition DescribedAs(Func<string, string> describeKey) => new(GrainType, Inputs, describeKey);
}
