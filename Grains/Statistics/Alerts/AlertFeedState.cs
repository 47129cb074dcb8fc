using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Alerts;

[GenerateSerializer, Alias("orderflow.alert-feed-state")]
public sealed class AlertFeedState
{
    [Id(0)] public Dictionary<string, RiskAlert> Alerts { get; set; } = [];
}
