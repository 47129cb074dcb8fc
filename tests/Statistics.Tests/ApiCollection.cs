using OrderFlow.Statistics.Tests.Infrastructure;

namespace OrderFlow.Statistics.Tests;

/// <summary>The HTTP tests share one real API host (and run one after the other on it).</summary>
[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<StatsApiFixture>
{
    public const string Name = "api";
}
