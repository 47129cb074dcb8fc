using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace OrderFlow.Silo;

/// <summary>
/// The one sampling rule of every host (README "Telemetry"). A span with a parent follows its
/// parent's decision, local or remote, so a command's trace is kept or dropped whole across the API
/// and the silos (and the projections, whose span joins the command's trace through the event
/// envelope). A root span is kept for <see cref="Ratio"/> of trace ids, except the root spans of
/// Azure Queue calls: the Azure Queue stream receivers poll (and delete what they delivered) all the
/// time outside any request, and would otherwise be most traces. A queue call inside a command's
/// trace has a parent, and stays.
/// </summary>
public sealed class OrderFlowTraceSampler : Sampler
{
    /// <summary>The standard setting naming the sampler; only parent-based ones are accepted (<see cref="Names"/>).</summary>
    public const string SamplerKey = "OTEL_TRACES_SAMPLER";

    /// <summary>
    /// The standard setting with the ratio of root spans kept (0 to 1) for <c>parentbased_traceidratio</c>. By default 1 when the
    /// configuration exports telemetry (<see cref="OrderFlowOpenTelemetry.Exports"/>), else 0: spans that go nowhere are not
    /// recorded (their context still propagates: correlation ids, the envelopes' traceparent, a caller's recorded trace).
    /// </summary>
    public const string SamplerArgumentKey = "OTEL_TRACES_SAMPLER_ARG";

    /// <summary>
    /// The operation names of the Azure Storage clients' spans (<c>QueueClient.ReceiveMessages</c>,
    /// <c>TableClient.Query</c>…). Without a parent they are background work (the queue receivers'
    /// polls, the rollback watch, projection flushes, the reconciliation), each of which would
    /// otherwise start a trace of its own every few seconds; inside a command's trace they are kept.
    /// </summary>
    public static readonly string[] StorageOperationPrefixes = ["QueueClient.", "QueueServiceClient.", "TableClient.", "TableServiceClient."];

    /// <summary>Application Insights counts a kept span as 100 / this many (a percentage), as its own sampler tells it.</summary>
    public const string ApplicationInsightsSampleRateAttribute = "microsoft.sample_rate";

    private const string RatioSampler = "parentbased_traceidratio";
    private const string AlwaysOnSampler = "parentbased_always_on";
    private const string AlwaysOffSampler = "parentbased_always_off";

    public static readonly string[] Names = [RatioSampler, AlwaysOnSampler, AlwaysOffSampler];

    private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

    private readonly TraceIdRatioBasedSampler roots;
    private readonly SamplingResult kept;

    public OrderFlowTraceSampler(double ratio)
    {
        if (!(ratio is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The ratio of traces kept is between 0 and 1.");
        }

        Ratio = ratio;
        roots = new TraceIdRatioBasedSampler(ratio);
        kept = ExportedRatio < 1
            ? new SamplingResult(SamplingDecision.RecordAndSample, [new(ApplicationInsightsSampleRateAttribute, ExportedRatio * 100)])
            : new SamplingResult(SamplingDecision.RecordAndSample);
        Description = string.Create(CultureInfo.InvariantCulture, $"OrderFlowTraceSampler{{{ratio}, no queue-poll roots}}");
    }

    /// <summary>The share of root spans (new traces) kept.</summary>
    public double Ratio { get; }

    /// <summary>
    /// The share Application Insights is told the kept spans are of: the Azure Monitor exporter counts
    /// every span it exports as 1 / its <c>SamplingRatio</c> spans, one rate per process. The ratio,
    /// but 1 at ratio 0: then the only traces kept are those a caller sampled (a recorded
    /// <c>traceparent</c>), each counted once, where a rate of 0 counts nothing sensible.
    /// </summary>
    public double ExportedRatio => Ratio > 0 ? Ratio : 1;

    /// <summary>The sampler <paramref name="configuration"/> asks for; refuses one that would split traces or an unreadable ratio.</summary>
    public static OrderFlowTraceSampler From(IConfiguration configuration)
    {
        var name = configuration[SamplerKey];
        var argument = configuration[SamplerArgumentKey];
        switch (string.IsNullOrWhiteSpace(name) ? RatioSampler : name.Trim())
        {
            case AlwaysOnSampler:
                return new OrderFlowTraceSampler(1);
            case AlwaysOffSampler:
                return new OrderFlowTraceSampler(0);
            case RatioSampler when string.IsNullOrWhiteSpace(argument):
                return new OrderFlowTraceSampler(OrderFlowOpenTelemetry.Exports(configuration) ? 1 : 0);
            case RatioSampler when double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1:
                return new OrderFlowTraceSampler(ratio);
            case RatioSampler:
                throw new InvalidOperationException($"{SamplerArgumentKey} is '{argument}': give the share of traces to keep, from 0 to 1 (for example 0.25).");
            default:
                throw new InvalidOperationException(
                    $"{SamplerKey} is '{name}'. Every host samples one way, so that a trace is kept or dropped whole across the API and the silos: "
                    + $"use {string.Join(", ", Names)} (the ratio in {SamplerArgumentKey}), or leave it unset (every trace kept when traces are exported, none when they go nowhere). README \"Telemetry\".");
        }
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.ParentContext.TraceId != default)
        {
            return (samplingParameters.ParentContext.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? kept : Dropped;
        }

        var name = samplingParameters.Name;
        if (Array.Exists(StorageOperationPrefixes, prefix => name.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return Dropped;
        }

        // At 1 every trace: the ratio sampler alone would drop the one trace id in 2^63 at its bound.
        return Ratio >= 1 || roots.ShouldSample(samplingParameters).Decision == SamplingDecision.RecordAndSample ? kept : Dropped;
    }
}
