using System.Net.Http.Json;
using System.Text.Json;
using OrderFlow.Projections;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>Waits for a projection rebuild to end, read through the admin API or from the projections grain.</summary>
public static class Rebuilds
{
    /// <summary>A rebuild reads the whole log; generous so that a loaded machine slows the test down rather than failing it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Polls the rebuild's status <paramref name="location"/> (GET /api/admin/projections/rebuild/{id}) until it is no longer running.</summary>
    public static Task<RebuildStatus> WaitUntilEndedAsync(StatsApiHost host, string location, CancellationToken ct) =>
        WaitUntilEndedAsync(() => host.Http.GetFromJsonAsync<RebuildStatus>(location, Json, ct), location, ct);

    /// <summary>Polls the projections grain for rebuild <paramref name="id"/> until it is no longer running.</summary>
    public static Task<RebuildStatus> WaitUntilEndedAsync(IGrainFactory grains, string id, CancellationToken ct) =>
        WaitUntilEndedAsync(() => grains.GetGrain<IProjectionsGrain>(0).GetRebuild(id), id, ct);

    private static Task<RebuildStatus> WaitUntilEndedAsync(Func<Task<RebuildStatus?>> readStatus, string rebuild, CancellationToken ct)
    {
        RebuildStatus? last = null;
        return Eventually.ValueAsync(
            async () => (last = await readStatus()) is { State: not RebuildState.Running } status ? status : null,
            $"rebuild {rebuild} to end", ct, Patience, () => last is null ? null : $"{last.State}, {last.EventsProcessed} events processed");
    }
}
