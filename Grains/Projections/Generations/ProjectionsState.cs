using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Generations;

[GenerateSerializer, Alias("orderflow.projections-state")]
public sealed class ProjectionsState
{
    [Id(0)] public int ActiveGeneration { get; set; } = 1;

    /// <summary>The highest generation ever started; a new rebuild takes the next one, never reusing a failed one's.</summary>
    [Id(1)] public int LatestGeneration { get; set; } = 1;

    /// <summary>Rebuilds, newest last (the last <see cref="ProjectionControlGrain.KeptRebuilds"/>).</summary>
    [Id(2)] public List<RebuildStatus> Rebuilds { get; set; } = [];

    /// <summary>The <see cref="ProjectionSchema"/> the active generation was written in; 0 when stored before versions were recorded.</summary>
    [Id(3)] public int ActiveSchema { get; set; }

    /// <summary>Why a repair was requested while a rebuild ran (see <see cref="IProjectionControl.RequestRepair"/>): a rebuild for it starts when that one ends.</summary>
    [Id(4)] public string? QueuedRepair { get; set; }
}
