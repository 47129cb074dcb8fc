namespace OrderFlow.Grains.Projections.Reconciliation;

/// <param name="Passes">Catch-up passes completed.</param>
/// <param name="Silos">Dead silos handled (each once).</param>
/// <param name="Last">The last pass: change rows read (none removed), orders read back, events fed, orders left to the regular passes.</param>
/// <param name="LastDuration">How long the last pass took, from the request to its end.</param>
[GenerateSerializer, Alias("orderflow.catch-up-report")]
public sealed record CatchUpReport(
    [property: Id(0)] int Passes,
    [property: Id(1)] int Silos,
    [property: Id(2)] ReconciliationPass? Last,
    [property: Id(3)] TimeSpan LastDuration = default);
