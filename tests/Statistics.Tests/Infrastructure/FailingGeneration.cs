using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>
/// While on, every projection of one generation refuses what a rebuild feeds it
/// (<see cref="IWriteBehindProjection.IngestAndPersist"/>), as if storage refused their writes: a
/// rebuild into that generation fails as a whole, which no single bad record may make it do.
/// </summary>
public sealed class FailingGeneration(int generation) : IIncomingGrainCallFilter
{
    private volatile bool on = true;

    public void TurnOff() => on = false;

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (on
            && context.InterfaceMethod?.Name == nameof(IWriteBehindProjection.IngestAndPersist)
            && context.TargetId.Key.ToString() is { } key
            && StatisticsKeys.GenerationOf(key) == generation)
        {
            throw new InvalidOperationException($"Injected: the projections of generation {generation} cannot persist.");
        }

        return context.Invoke();
    }
}
