namespace OrderFlow.Grains.Projections.Rebuild;

/// <summary>Runs one rebuild (key: the rebuild id).</summary>
public interface IProjectionRebuildGrain : IGrainWithStringKey
{
    /// <summary>Starts scanning the log into <paramref name="generation"/> in the background.</summary>
    Task Start(int generation);
}
