using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrderFlow.Grains.Statistics;

/// <summary>
/// The day grains of this silo holding counts not yet persisted and rolled up to their month.
/// </summary>
public sealed class PendingRollups
{
    private readonly ConcurrentDictionary<string, byte> keys = new(StringComparer.Ordinal);

    public void Add(string dayKey) => keys.TryAdd(dayKey, 0);

    public void Remove(string dayKey) => keys.TryRemove(dayKey, out _);

    public IReadOnlyCollection<string> Keys => [.. keys.Keys];
}

/// <summary>
/// When a silo shuts down, flushes every day grain with pending counts while the silo still
/// accepts calls: during deactivation the push to the month grain can fail, which would leave
/// whole-day summaries behind the minute buckets after a restart.
/// </summary>
public sealed class FlushStatisticsOnShutdown(PendingRollups pending, IGrainFactory grains, ILogger<FlushStatisticsOnShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(FlushStatisticsOnShutdown), ServiceLifecycleStage.Active, _ => Task.CompletedTask, FlushAsync);

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        var keys = pending.Keys;
        try
        {
            await Task.WhenAll(keys.Select(key => grains.GetGrain<IDayStatsGrain>(key).Flush())).WaitAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Flushing {Count} day statistics at shutdown failed; a rebuild restores them.", keys.Count);
        }
    }
}
