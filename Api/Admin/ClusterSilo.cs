namespace OrderFlow.Api.Admin;

/// <summary>
/// One silo of the cluster as its membership table lists it (dead ones too, until Orleans
/// expires them), with its activations by grain type when it is active.
/// </summary>
public sealed record ClusterSilo(
    string Address,
    string? Name,
    string Status,
    int SiloPort,
    int GatewayPort,
    DateTime StartedAt,
    int Activations,
    IReadOnlyDictionary<string, int> ActivationsByGrainType);
