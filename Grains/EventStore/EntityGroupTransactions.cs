namespace OrderFlow.Grains.EventStore;

/// <summary>What tells an entity-group transaction's request among a table client's requests.</summary>
public static class EntityGroupTransactions
{
    /// <summary>The request path addresses <c>$batch</c>, the one path of an entity-group transaction.</summary>
    public static bool IsTransaction(string path) => path.EndsWith("/$batch", StringComparison.Ordinal);
}
