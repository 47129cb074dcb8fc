using System.Collections.Concurrent;
using Orleans.Runtime;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>The projections of this silo holding counts not yet persisted.</summary>
public sealed class UnflushedProjections
{
    private readonly ConcurrentDictionary<GrainId, byte> grains = new();

    public void Add(GrainId grain) => grains.TryAdd(grain, 0);

    public void Remove(GrainId grain) => grains.TryRemove(grain, out _);

    public IReadOnlyCollection<GrainId> Grains => [.. grains.Keys];
}
