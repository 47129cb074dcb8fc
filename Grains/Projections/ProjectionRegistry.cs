using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics.StuckOrders;

namespace OrderFlow.Grains.Projections;

/// <summary>
/// Every projection, in one list: adding one is its grain (which declares its
/// <see cref="ProjectionDefinition"/>) and a line here. Stream consumers, the feed of rebuilds and
/// reconciliations, and the janitor read this list; nothing else names projections.
/// </summary>
public static class ProjectionRegistry
{
    public static IReadOnlyList<ProjectionDefinition> All { get; } =
    [
        DayStatsGrain.Projection,
        MonthStatsGrain.Projection,
        CustomerStatsGrain.Projection,
        StuckOrdersGrain.Projection,
        AlertFeedGrain.Projection,
        StatsCatalogGrain.Projection,
    ];

    /// <summary>
    /// The projection grains of <paramref name="generation"/> that count <paramref name="envelope"/>,
    /// each with its key (grain type and key: unique among them).
    /// </summary>
    public static IEnumerable<(string Key, IProjectionInput<TEnvelope> Grain)> TargetsOf<TEnvelope>(IGrainFactory grains, TEnvelope envelope, int generation)
    {
        foreach (var projection in All)
        {
            foreach (var input in projection.Inputs.OfType<ProjectionInput<TEnvelope>>().Where(input => input.Consumes(envelope)))
            {
                var key = input.KeyOf(generation, envelope);
                yield return (projection.GrainType + ":" + key, grains.GetGrain<IProjectionInput<TEnvelope>>(GrainId.Create(projection.GrainType, key)));
            }
        }
    }

    /// <summary>Feeds one event to every projection of <paramref name="generation"/> that consumes it (written behind).</summary>
    public static Task DeliverAsync<TEnvelope>(IGrainFactory grains, TEnvelope envelope, int generation) =>
        Task.WhenAll(TargetsOf(grains, envelope, generation).Select(target => target.Grain.Ingest(envelope)));

    /// <summary>A projection grain id ("customerstats/2/customer-7") in plain words; the id itself when its type is no projection's or its key does not parse.</summary>
    public static string Describe(string grainId)
    {
        var slash = grainId.IndexOf('/');
        var (type, key) = slash < 0 ? (grainId, "") : (grainId[..slash], grainId[(slash + 1)..]);
        if (All.FirstOrDefault(projection => projection.GrainType == type)?.DescribeKey is not { } describe)
        {
            return $"{type} {key}";
        }

        try
        {
            return describe(key);
        }
        catch (FormatException)
        {
            return grainId;
        }
    }
}
