using System.ComponentModel;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Operations;
using OrderFlow.Projections;

namespace OrderFlow.Api.Admin;

/// <summary>API.md "Admin": rebuilding the projections from the event log; what was parked; the cluster's silos.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(ApiPolicies.Admin)
            .AnswersUnauthorized("the admin role");
        admin.MapPost("/projections/rebuild", StartRebuild).WithName("StartProjectionRebuild")
            .WithSummary("Rebuild every statistics projection from the whole event log into a new generation, switching when done")
            .WithDescription("Takes no body. The statistics keep answering from the current generation until the new one has caught up.")
            .Returns<RebuildAccepted>(StatusCodes.Status202Accepted, "The rebuild started; Location is its status (GET /api/admin/projections/rebuild/{id}).")
            .Answers(StatusCodes.Status409Conflict, "A rebuild is running (/problems/rebuild-running); the detail names its status URL.")
            .Answers(StatusCodes.Status413PayloadTooLarge, "A body (none is needed) over 64 KiB (/problems/body-too-large).")
            .Answers(StatusCodes.Status503ServiceUnavailable,
                "Storage or the cluster did not answer: nothing started (/problems/storage-unavailable), or the rebuild may have started "
                + "(/problems/outcome-unknown). Ask again after Retry-After: a rebuild that did start answers 409 with its id.");
        admin.MapGet("/projections/rebuild/{id}", GetRebuild).WithName("GetProjectionRebuild")
            .WithSummary("A rebuild's progress: state, events processed, start and completion times")
            .Returns<RebuildStatus>(StatusCodes.Status200OK, "The rebuild's state and progress.")
            .Answers(StatusCodes.Status404NotFound, "No rebuild with this id (/problems/not-found).")
            .AnswersUnavailableQuery();
        admin.MapGet("/parked", GetParked).WithName("GetParkedRecords")
            .WithSummary("What failed over and over and was set aside (projection keys, orders, events): why, since when, attempts, next retry")
            .Returns<ParkedRecords>(StatusCodes.Status200OK, "The parked records, empty when nothing is parked.")
            .AnswersUnavailableQuery();
        admin.MapGet("/cluster", GetCluster).WithName("GetCluster")
            .WithSummary("The silos of the cluster (from its membership), each with its status, ports and activations by grain type")
            .Returns<ClusterReport>(StatusCodes.Status200OK, "Every silo the membership knows of, the dead ones included, with the activations of the active ones.")
            .AnswersUnavailableQuery();
        return endpoints;
    }

    public sealed record RebuildAccepted(string Id);

    private static async Task<IResult> StartRebuild(IGrainFactory grains)
    {
        var (status, alreadyRunning) = await grains.GetGrain<IProjectionsGrain>(0).StartRebuild();
        var location = $"/api/admin/projections/rebuild/{status.Id}";
        if (alreadyRunning)
        {
            return Problems.Problem(StatusCodes.Status409Conflict, "A rebuild is running",
                $"Rebuild {status.Id} is still running; follow it at {location}.", "rebuild-running");
        }

        return TypedResults.Accepted(location, new RebuildAccepted(status.Id));
    }

    private static async Task<IResult> GetParked(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IParkedRecordsGrain>(0).List());

    private static async Task<IResult> GetCluster(IGrainFactory grains)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: false);
        var active = hosts.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloAddress).ToArray();
        var statistics = active.Length == 0 ? [] : await management.GetSimpleGrainStatistics(active);
        var silos = hosts
            .OrderBy(h => h.SiloAddress.Endpoint.Port).ThenBy(h => h.SiloAddress.Generation)
            .Select(h =>
            {
                var mine = statistics.Where(s => s.SiloAddress.Equals(h.SiloAddress)).ToList();
                return new ClusterSilo(
                    h.SiloAddress.ToParsableString(), h.SiloName, h.Status.ToString(), h.SiloAddress.Endpoint.Port, h.ProxyPort, h.StartTime,
                    mine.Sum(s => s.ActivationCount),
                    mine.GroupBy(s => s.GrainType).ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount), StringComparer.Ordinal));
            });
        return TypedResults.Ok(new ClusterReport([.. silos]));
    }

    private static async Task<IResult> GetRebuild([Description("The rebuild's id, as answered by POST /api/admin/projections/rebuild.")] string id, IGrainFactory grains) =>
        await grains.GetGrain<IProjectionsGrain>(0).GetRebuild(id) is { } status
            ? TypedResults.Ok(status)
            : Problems.NotFound($"No rebuild with id '{id}'.");
}
