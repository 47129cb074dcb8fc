namespace OrderFlow.Grains.Statistics;

/// <summary>
/// Which events a projection grain has already counted, by order id and version: a repeated or
/// redelivered event is recognised and skipped. Each grain holds only the events that belong to
/// it (one day of one shard, one customer), so this stays proportional to the grain's own data.
/// </summary>
[GenerateSerializer, Alias("orderflow.counted-events")]
public sealed class CountedEvents
{
    [Id(0)] public Dictionary<string, List<int>> Versions { get; set; } = [];

    /// <summary>Marks the event as counted; false when it already was.</summary>
    public bool TryMark(string orderId, int version)
    {
        if (!Versions.TryGetValue(orderId, out var versions))
        {
            Versions[orderId] = [version];
            return true;
        }

        var index = versions.BinarySearch(version);
        if (index >= 0)
        {
            return false;
        }

        versions.Insert(~index, version);
        return true;
    }
}
