namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>Refuses, while enabled, every stream publication made by an order grain whose id starts with <paramref name="orderIdPrefix"/>.</summary>
public sealed class FailingPublications(string orderIdPrefix) : IOutgoingGrainCallFilter
{
    private int refused;

    public volatile bool Enabled = true;

    public int Refused => Volatile.Read(ref refused);

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (Enabled
            && context.InterfaceMethod?.DeclaringType == typeof(Orleans.Providers.IMemoryStreamQueueGrain)
            && context.SourceId is { } source && source.Key.ToString()!.StartsWith(orderIdPrefix, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref refused);
            throw new InvalidOperationException("The stream refused the publication (a test's fault).");
        }

        return context.Invoke();
    }
}
