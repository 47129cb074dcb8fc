using System.Globalization;

namespace OrderFlow.Grains.Statistics;

/// <summary>
/// Keys of the projection grains. Every key starts with the projection generation, so that a
/// rebuild can fill a new generation while the current one keeps serving.
/// </summary>
public static class StatisticsKeys
{
    public const int CurrentGeneration = 1;

    public static string Day(int shard, DateOnly day) =>
        string.Create(CultureInfo.InvariantCulture, $"{CurrentGeneration}/{shard}/{day:yyyy-MM-dd}");

    public static string Month(int shard, int year, int month) =>
        string.Create(CultureInfo.InvariantCulture, $"{CurrentGeneration}/{shard}/{year:D4}-{month:D2}");

    public static string Global() => CurrentGeneration.ToString(CultureInfo.InvariantCulture);

    public static string Shard(int shard) => string.Create(CultureInfo.InvariantCulture, $"{CurrentGeneration}/{shard}");

    public static string Customer(string customerId) => string.Create(CultureInfo.InvariantCulture, $"{CurrentGeneration}/{customerId}");

    /// <summary>Parses "{generation}/{shard}/{rest}".</summary>
    public static (int Shard, string Remainder) ParseSharded(string key)
    {
        var parts = key.Split('/', 3);
        return (int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2]);
    }
}
