using System.Runtime.CompilerServices;
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
    /// each with the key it is parked under: its grain id's text ("customerstats/2/customer-7").
    /// </summary>
    public static IEnumerable<(string Key, IProjectionInput<TEnvelope> Grain)> TargetsOf<TEnvelope>(IGrainFactory grains, TEnvelope envelope, int generation)
    {
        foreach (var projection in All)
        {
            foreach (var input in projection.Inputs.OfType<ProjectionInput<TEnvelope>>().Where(input => input.Consumes(envelope)))
            {
                var id = GrainId.Create(projection.GrainType, input.KeyOf(generation, envelope));
                yield return (id.ToString(), InputOf<TEnvelope>(grains, id));
            }
        }
    }

    /// <summary>
    /// The input of the projection grain <paramref name="id"/>. Orleans resolves the grain interface
    /// type from the interface's attributes on every <c>GetGrain</c>, and this runs for every live
    /// event and projection: the type is resolved once, by the first <c>GetGrain</c>, and reused.
    /// </summary>
    private static IProjectionInput<TEnvelope> InputOf<TEnvelope>(IGrainFactory grains, GrainId id)
    {
        if (Volatile.Read(ref InputInterface<TEnvelope>.Type) is { } type)
        {
            return (IProjectionInput<TEnvelope>)grains.GetGrain(id, type.Value);
        }

        var grain = grains.GetGrain<IProjectionInput<TEnvelope>>(id);
        Volatile.Write(ref InputInterface<TEnvelope>.Type, new StrongBox<GrainInterfaceType>(((GrainReference)grain).InterfaceType));
        return grain;
    }

    /// <summary>
    /// The grain interface type of <see cref="IProjectionInput{TEnvelope}"/>, the same in every silo and
    /// client (see <see cref="InputOf"/>); boxed, so that it is written and read whole.
    /// </summary>
    private static class InputInterface<TEnvelope>
    {
        public static StrongBox<GrainInterfaceType>? Type;
    }

    /// <summary>
    /// Feeds <paramref name="envelopes"/> to every projection of each of <paramref name="generations"/>
    /// that consumes them (written behind): one call per projection grain with all its envelopes,
    /// all grains at once.
    /// </summary>
    /// <returns>Every projection grain sent to and those whose call failed (the others counted their envelopes), by the key they are parked under (their grain id).</returns>
    public static async Task<LiveDelivery> DeliverAsync<TEnvelope>(
        IGrainFactory grains, IReadOnlyCollection<TEnvelope> envelopes, IEnumerable<int> generations)
    {
        var byGrain = new Dictionary<string, (IProjectionInput<TEnvelope> Grain, List<TEnvelope> Envelopes)>(StringComparer.Ordinal);
        foreach (var generation in generations)
        {
            foreach (var envelope in envelopes)
            {
                foreach (var (key, grain) in TargetsOf(grains, envelope, generation))
                {
                    if (!byGrain.TryGetValue(key, out var target))
                    {
                        byGrain[key] = target = (grain, []);
                    }

                    target.Envelopes.Add(envelope);
                }
            }
        }

        var sends = byGrain.Select(async target =>
        {
            try
            {
                await target.Value.Grain.IngestBatch(target.Value.Envelopes);
                return ((string, Exception)?)null;
            }
            catch (Exception exception)
            {
                return (target.Key, exception);
            }
        });
        var failures = (await Task.WhenAll(sends)).OfType<(string, Exception)>().ToList();
        return new LiveDelivery([.. byGrain.Keys], failures);
    }

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
