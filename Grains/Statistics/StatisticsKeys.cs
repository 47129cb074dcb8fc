using System.Globalization;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics;

/// <summary>
/// Keys of the projection grains. Every key starts with the projection generation, so that a
/// rebuild can fill a new generation while the current one keeps serving (see
/// <see cref="ProjectionControlGrain"/>); grains derive their generation from their own key.
/// </summary>
public static class StatisticsKeys
{
    public static string Day(int generation, int shard, DateOnly day) =>
        string.Create(CultureInfo.InvariantCulture, $"{generation}/{shard}/{day:yyyy-MM-dd}");

    /// <summary>The day grain that counts <paramref name="envelope"/> in <paramref name="generation"/>: its shard, on the day of its event time.</summary>
    public static string DayOf(int generation, OrderEventEnvelope envelope) =>
        Day(generation, OrderEventStreams.ShardOf(envelope.OrderId), DateOnly.FromDateTime(envelope.OccurredAt.UtcDateTime));

    public static string Month(int generation, int shard, int year, int month) =>
        string.Create(CultureInfo.InvariantCulture, $"{generation}/{shard}/{year:D4}-{month:D2}");

    /// <summary>The month grain of <paramref name="yearMonth"/>, "yyyy-MM" as the catalog lists it (<see cref="Catalog.IStatsCatalogGrain.Months"/>).</summary>
    public static string Month(int generation, int shard, string yearMonth) =>
        string.Create(CultureInfo.InvariantCulture, $"{generation}/{shard}/{yearMonth}");

    /// <summary>The alert feed of one day (see <see cref="AlertFeedGrain"/>).</summary>
    public static string AlertDay(int generation, DateOnly day) =>
        string.Create(CultureInfo.InvariantCulture, $"{generation}/{day:yyyy-MM-dd}");

    public static (int Generation, DateOnly Day) ParseAlertDay(string key) =>
        (GenerationOf(key), DateOnly.ParseExact(AfterGeneration(key), "yyyy-MM-dd", CultureInfo.InvariantCulture));

    /// <summary>
    /// Open orders are spread over this many stuck-order grains (by order id), more than there are
    /// stream shards: a grain keeps about 49 bytes per open order, and orders placed and never paid
    /// stay open for good, so 8 grains held only about 100,000 open orders in all (64: about 750,000,
    /// <c>ProjectionCapacityTests</c>).
    /// Part of the stored projection layout: changing it needs a projection rebuild.
    /// </summary>
    public const int StuckOrderPartitions = 64;

    public static string StuckOrders(int generation, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{generation}/{partition}");

    /// <summary>The stuck-order grain that tracks <paramref name="orderId"/>.</summary>
    public static string StuckOrdersOf(int generation, string orderId) =>
        StuckOrders(generation, OrderEventStreams.PartitionOf(orderId, StuckOrderPartitions));

    public static string Global(int generation) => generation.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A customer's grain: the customer id goes through <see cref="KeyEncoding"/>, like every id in
    /// a storage key, because the grain key becomes the PartitionKey of the grain's state (Orleans
    /// replaces only '/', '\', '#' and '?' in it, with '_', so that "a/b" and "a_b" met in one row,
    /// and a control character made the row unwritable). At most <see cref="MaxCustomerKeyLength"/>
    /// characters, so that the row key fits with its prefix whatever the id.
    /// </summary>
    public static string Customer(int generation, string customerId) =>
        string.Create(CultureInfo.InvariantCulture, $"{generation}/{KeyEncoding.EncodeWithin(customerId, MaxCustomerKeyLength)}");

    /// <summary>
    /// Leaves room in a row key (<see cref="EventStore.TableLimits.MaxKeyChars"/>) for the grain type,
    /// the generation, the state name and a journal row's suffix, with the key encoded once more
    /// (<see cref="Projections.Storage.ProjectionStateKeys"/>): at worst some 475 characters.
    /// </summary>
    public const int MaxCustomerKeyLength = 256;

    /// <summary>The customer id of a <see cref="Customer"/> key; null for an id too long to be kept in it (its grain keeps it in its state).</summary>
    public static string? CustomerIdOf(string key) => KeyEncoding.TryDecode(AfterGeneration(key));

    /// <summary>The generation of a projection grain id ("customerstats/2/customer-7": 2).</summary>
    public static int GenerationOfGrain(string grainId) => GenerationOf(AfterGeneration(grainId));

    /// <summary>The generation a key belongs to: its first segment.</summary>
    public static int GenerationOf(string key) => int.Parse(key.AsSpan(0, key.IndexOf('/') is var slash and >= 0 ? slash : key.Length), CultureInfo.InvariantCulture);

    /// <summary>The part of a key after its generation ("customer-7" of "1/customer-7").</summary>
    public static string AfterGeneration(string key) => key[(key.IndexOf('/') + 1)..];

    /// <summary>Parses "{generation}/{shard}/{rest}".</summary>
    public static (int Generation, int Shard, string Remainder) ParseSharded(string key)
    {
        var parts = key.Split('/', 3);
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2]);
    }
}
