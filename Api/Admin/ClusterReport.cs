namespace OrderFlow.Api.Admin;

/// <summary>GET /api/admin/cluster: the silos the management grain knows of.</summary>
public sealed record ClusterReport(IReadOnlyList<ClusterSilo> Silos);
