namespace OrderFlow.Cluster.Tests.Infrastructure;

/// <summary>
/// The test classes that share one <see cref="LocalCluster"/>: starting a cluster of processes takes
/// minutes on a small machine, so every class that needs one uses the same (and runs in turn).
/// </summary>
[CollectionDefinition(Name)]
public sealed class LocalClusterCollection : ICollectionFixture<LocalCluster>
{
    public const string Name = "local cluster";
}
