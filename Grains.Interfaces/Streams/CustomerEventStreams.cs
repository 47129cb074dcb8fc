namespace OrderFlow.Streams;

/// <summary>
/// Where customer events are published: their own namespace (category) on the same provider as
/// order events, one stream per shard of customers, so that a customer's events stay in order.
/// </summary>
public static class CustomerEventStreams
{
    public const string Namespace = "customer-events";

    /// <summary>Part of the stored projection layout: changing it needs a projection rebuild.</summary>
    public const int ShardCount = 8;

    public static int ShardOf(string customerId) => OrderEventStreams.PartitionOf(customerId, ShardCount);

    public static string StreamKey(int shard) => OrderEventStreams.StreamKey(shard);
}
