namespace OrderFlow.Streams;

/// <summary>
/// Where order events are published: namespace <see cref="Namespace"/> on the stream provider
/// <see cref="ProviderName"/>, one stream per shard of orders. An order always maps to the same
/// shard, so its events stay in order on one stream, and consumers scale with the shard count.
/// </summary>
public static class OrderEventStreams
{
    public const string ProviderName = "OrderEvents";

    public const string Namespace = "order-events";

    /// <summary>
    /// The number of shards is part of the stored projection layout: changing it needs a projection rebuild.
    /// </summary>
    public const int ShardCount = 8;

    public static int ShardOf(string orderId) => PartitionOf(orderId, ShardCount);

    /// <summary>
    /// One of <paramref name="partitions"/> for <paramref name="id"/>: FNV-1a over its UTF-16 code
    /// units, stable across processes and versions, unlike string.GetHashCode.
    /// </summary>
    public static int PartitionOf(string id, int partitions)
    {
        var hash = 2166136261u;
        foreach (var c in id)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)partitions);
    }

    public static string StreamKey(int shard) => "shard-" + shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
