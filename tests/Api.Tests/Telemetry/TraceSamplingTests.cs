using System.Diagnostics;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Grains.Telemetry;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Telemetry;

/// <summary>
/// README "Telemetry", sampling: one parent-based rule on every host (a trace kept or dropped whole
/// across the API and the silos), its ratio from <c>OTEL_TRACES_SAMPLER_ARG</c>, Azure Monitor's own
/// per-process sampler replaced, and the Azure Queue stream receivers' polls (root queue spans) dropped.
/// </summary>
public sealed class TraceSamplingTests(AzuriteFixture azurite)
{
    private const string ConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/";

    [Theory]
    [InlineData("QueueClient.ReceiveMessages")]
    [InlineData("QueueClient.PeekMessages")]
    [InlineData("QueueClient.DeleteMessage")]
    [InlineData("TableClient.Query")]
    [InlineData("TableClient.SubmitTransaction")]
    [InlineData("TableServiceClient.CreateTableIfNotExists")]
    public void A_storage_call_without_a_parent_is_dropped_and_inside_a_kept_trace_it_is_kept(string operation)
    {
        var sampler = new OrderFlowTraceSampler(1);

        Assert.Equal(SamplingDecision.Drop, sampler.ShouldSample(Root(operation)).Decision);
        Assert.Equal(SamplingDecision.RecordAndSample, sampler.ShouldSample(Child(operation, parentKept: true, remote: false)).Decision);
        Assert.Equal(SamplingDecision.Drop, sampler.ShouldSample(Child(operation, parentKept: false, remote: false)).Decision);
    }

    [Fact]
    public void A_span_with_a_parent_follows_its_parents_decision_whatever_the_ratio()
    {
        Assert.Equal(SamplingDecision.RecordAndSample, new OrderFlowTraceSampler(0).ShouldSample(Child("IOrderGrain/Execute", parentKept: true, remote: true)).Decision);
        Assert.Equal(SamplingDecision.RecordAndSample, new OrderFlowTraceSampler(0).ShouldSample(Child(OrderFlowTelemetry.ProjectActivity, parentKept: true, remote: false)).Decision);
        Assert.Equal(SamplingDecision.Drop, new OrderFlowTraceSampler(1).ShouldSample(Child("IOrderGrain/Execute", parentKept: false, remote: true)).Decision);
        Assert.Equal(SamplingDecision.Drop, new OrderFlowTraceSampler(1).ShouldSample(Child(OrderFlowTelemetry.ProjectActivity, parentKept: false, remote: false)).Decision);
    }

    [Fact]
    public void A_root_is_kept_by_its_trace_id_at_the_ratio_and_says_its_rate_to_Application_Insights()
    {
        // The ratio sampler keeps a trace id whose first 8 bytes, as a number, are below ratio × long.MaxValue.
        var low = ActivityTraceId.CreateFromString("00000000000000010000000000000000");
        var high = ActivityTraceId.CreateFromString("7fffffffffffffff0000000000000000");
        var half = new OrderFlowTraceSampler(0.5);

        var kept = half.ShouldSample(Root("POST /api/orders", low));
        Assert.Equal(SamplingDecision.RecordAndSample, kept.Decision);
        Assert.Contains(kept.Attributes, attribute => attribute.Key == OrderFlowTraceSampler.ApplicationInsightsSampleRateAttribute && Equals(attribute.Value, 50.0));
        Assert.Equal(SamplingDecision.Drop, half.ShouldSample(Root("POST /api/orders", high)).Decision);
        Assert.Equal(SamplingDecision.Drop, new OrderFlowTraceSampler(0).ShouldSample(Root("POST /api/orders", low)).Decision);
        var all = new OrderFlowTraceSampler(1).ShouldSample(Root("POST /api/orders", high));
        Assert.Equal(SamplingDecision.RecordAndSample, all.Decision);
        Assert.Empty(all.Attributes);
    }

    public static TheoryData<string?, string?, double> AcceptedSettings => new()
    {
        { "parentbased_traceidratio", "0.25", 0.25 },
        { null, "0.1", 0.1 },
        { "parentbased_always_on", null, 1 },
        { "parentbased_always_off", null, 0 },
    };

    [Theory]
    [MemberData(nameof(AcceptedSettings))]
    public void The_ratio_comes_from_the_standard_settings(string? sampler, string? argument, double ratio)
    {
        Assert.Equal(ratio, OrderFlowTraceSampler.From(Configured(sampler, argument)).Ratio);
        Assert.Equal(ratio, OrderFlowTraceSampler.From(Configured(sampler, argument, OrderFlowOpenTelemetry.OtlpEndpointKey, "http://127.0.0.1:9")).Ratio);
    }

    [Theory]
    [InlineData(null, null, 0)]
    [InlineData(OrderFlowOpenTelemetry.OtlpEndpointKey, "http://127.0.0.1:9", 1)]
    [InlineData(OrderFlowOpenTelemetry.ApplicationInsightsKey, ConnectionString, 1)]
    public void Unset_the_ratio_keeps_every_trace_when_telemetry_is_exported_and_none_when_it_goes_nowhere(string? exporterKey, string? exporterValue, double ratio)
    {
        Assert.Equal(ratio, OrderFlowTraceSampler.From(Configured(null, null, exporterKey, exporterValue)).Ratio);
        Assert.Equal(ratio, OrderFlowTraceSampler.From(Configured("parentbased_traceidratio", null, exporterKey, exporterValue)).Ratio);
    }

    [Theory]
    [InlineData("microsoft.rate_limited", "5")] // Azure Monitor's per-process rate: it would split traces
    [InlineData("traceidratio", "0.5")] // not parent-based
    [InlineData("always_on", null)]
    [InlineData("parentbased_traceidratio", "1.5")]
    [InlineData("parentbased_traceidratio", "a quarter")]
    public void A_sampler_that_would_split_traces_or_an_unreadable_ratio_is_refused_at_start(string sampler, string? argument)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => OrderFlowTraceSampler.From(Configured(sampler, argument)));
        Assert.Contains("OTEL_TRACES_SAMPLER", refused.Message, StringComparison.Ordinal);

        var (args, settings) = ApiHost.Configuration("UseDevelopmentStorage=true", "Production", withKeys: true, httpPort: 1);
        settings[OrderFlowTraceSampler.SamplerKey] = sampler;
        settings[OrderFlowTraceSampler.SamplerArgumentKey] = argument;
        Assert.Throws<InvalidOperationException>(() => ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_API_samples_by_the_rule_with_or_without_Azure_Monitor(bool azureMonitor)
    {
        var (args, settings) = ApiHost.Configuration("UseDevelopmentStorage=true", "Production", withKeys: true, httpPort: 1);
        settings[OrderFlowTraceSampler.SamplerArgumentKey] = "0.25";
        settings[OrderFlowOpenTelemetry.ApplicationInsightsKey] = azureMonitor ? ConnectionString : null;

        await using var app = ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings));

        Assert.Equal(0.25, Assert.IsType<OrderFlowTraceSampler>(SamplerOf(app.Services)).Ratio);
    }

    /// <summary>
    /// The Azure Monitor exporter counts each span it exports as 1 / its sampling ratio: the ratio,
    /// and 1 at ratio 0, where the only traces kept are those a caller sampled (each counted once;
    /// it was told 0, and the spans said a rate of 0).
    /// </summary>
    [Theory]
    [InlineData("0.25", 0.25f)]
    [InlineData("0", 1f)]
    public async Task Application_Insights_is_told_the_ratio_and_at_ratio_0_to_count_each_kept_span_once(string ratio, float exported)
    {
        var (args, settings) = ApiHost.Configuration("UseDevelopmentStorage=true", "Production", withKeys: true, httpPort: 1);
        settings[OrderFlowTraceSampler.SamplerArgumentKey] = ratio;
        settings[OrderFlowOpenTelemetry.ApplicationInsightsKey] = ConnectionString;
        await using var app = ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings));
        var siloSettings = Settings(null, ratio);
        siloSettings[OrderFlowOpenTelemetry.ApplicationInsightsKey] = ConnectionString;
        using var silo = SiloApplication.Build([], builder => builder.Configuration.AddInMemoryCollection(siloSettings));

        Assert.Equal(exported, app.Services.GetRequiredService<IOptionsMonitor<AzureMonitorOptions>>().CurrentValue.SamplingRatio);
        Assert.Equal(exported, silo.Services.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().CurrentValue.SamplingRatio);
        var callers = Assert.IsType<OrderFlowTraceSampler>(SamplerOf(app.Services)).ShouldSample(Child("IOrderGrain/Execute", parentKept: true, remote: true));
        Assert.Equal(SamplingDecision.RecordAndSample, callers.Decision);
        Assert.Equal(exported < 1 ? [exported * 100.0] : [], callers.Attributes.Where(a => a.Key == OrderFlowTraceSampler.ApplicationInsightsSampleRateAttribute).Select(a => Convert.ToDouble(a.Value, System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Spans that go nowhere are not recorded: an API (and its co-hosted silo) exporting nowhere starts no trace.</summary>
    [Fact]
    public async Task An_API_that_exports_nowhere_records_no_new_trace()
    {
        var (args, settings) = ApiHost.Configuration("UseDevelopmentStorage=true", "Production", withKeys: true, httpPort: 1);

        await using var app = ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings));

        Assert.Equal(0, Assert.IsType<OrderFlowTraceSampler>(SamplerOf(app.Services)).Ratio);
        Assert.Equal(SamplingDecision.Drop, SamplerOf(app.Services).ShouldSample(Root("POST /api/orders")).Decision);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_standalone_silo_samples_by_the_rule_with_or_without_Azure_Monitor(bool azureMonitor)
    {
        var settings = Settings(null, "0.25");
        settings[OrderFlowOpenTelemetry.ApplicationInsightsKey] = azureMonitor ? ConnectionString : null;

        using var silo = SiloApplication.Build([], builder => builder.Configuration.AddInMemoryCollection(settings));

        Assert.Equal(0.25, Assert.IsType<OrderFlowTraceSampler>(SamplerOf(silo.Services)).Ratio);
    }

    /// <summary>
    /// On Azure Queue streams the receivers poll all the time: none of those polls is a trace, while the
    /// publication's enqueue is in the command's trace, and the projection (fed by a poll) joins it.
    /// </summary>
    [Fact]
    public async Task On_Azure_Queue_streams_no_poll_is_traced_and_the_commands_enqueue_is_in_its_trace()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var queues = await Azurite.StartQueuesAsync(ct);
        var spans = new LockedCollection<Activity>();
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, configure: builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [OrderFlowSiloExtensions.StreamsProviderKey] = "AzureQueue",
                ["ConnectionStrings:Queues"] = queues.ConnectionString,

                // Every new trace kept: without an exporter the ratio is 0, and no poll would be traced whatever the rule (an audit finding).
                [OrderFlowTraceSampler.SamplerKey] = "parentbased_always_on",
            });
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
        });
        var traceId = ActivityTraceId.CreateRandom();
        var orderId = TestOrders.NewId();

        using (new Activity("test-caller").SetParentId(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start())
        {
            using var response = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(orderId).ToJsonString());
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        // The projection's span means a receiver polled the event out of its queue.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!spans.Snapshot().Any(span => span.TraceId == traceId && span.OperationName == OrderFlowTelemetry.ProjectActivity) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        var recorded = spans.Snapshot();
        var trace = recorded.Where(span => span.TraceId == traceId).ToList();
        var seen = string.Join("\n", trace.Select(span => $"{span.Source.Name}: {span.DisplayName}"));
        Assert.True(trace.Any(span => span.OperationName == OrderFlowTelemetry.ProjectActivity), $"No projection span in the command's trace:\n{seen}");
        Assert.True(trace.Any(span => span.Source.Name.StartsWith("Azure.Storage.Queues", StringComparison.Ordinal) && span.ParentSpanId != default),
            $"No queue call (the publication's enqueue) in the command's trace:\n{seen}");
        var queuePort = new Uri(queues.ConnectionString.Split("QueueEndpoint=")[1].TrimEnd(';')).Port;
        var polls = recorded.Where(span => span.ParentSpanId == default
            && (span.Source.Name.StartsWith("Azure.Storage.Queues", StringComparison.Ordinal) || Equals(span.GetTagItem("server.port"), queuePort))).ToList();
        Assert.True(polls.Count == 0, "Traced without a parent: " + string.Join(", ", polls.Select(span => span.DisplayName).Distinct()));
    }

    private static Sampler SamplerOf(IServiceProvider services)
    {
        var provider = services.GetRequiredService<TracerProvider>();
        // OpenTelemetry keeps the sampler it was built with on its (internal) provider type.
        var property = provider.GetType().GetProperty("Sampler", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"{provider.GetType()} has no Sampler property.");
        return (Sampler)property.GetValue(provider)!;
    }

    private static Dictionary<string, string?> Settings(string? sampler, string? argument) => new()
    {
        [OrderFlowTraceSampler.SamplerKey] = sampler,
        [OrderFlowTraceSampler.SamplerArgumentKey] = argument,
    };

    private static IConfiguration Configured(string? sampler, string? argument, string? exporterKey = null, string? exporterValue = null)
    {
        var settings = Settings(sampler, argument);
        if (exporterKey is not null)
        {
            settings[exporterKey] = exporterValue;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    private static SamplingParameters Root(string name, ActivityTraceId? traceId = null) =>
        new(default, traceId ?? ActivityTraceId.CreateRandom(), name, ActivityKind.Client);

    private static SamplingParameters Child(string name, bool parentKept, bool remote)
    {
        var traceId = ActivityTraceId.CreateRandom();
        var parent = new ActivityContext(traceId, ActivitySpanId.CreateRandom(), parentKept ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, isRemote: remote);
        return new(parent, traceId, name, ActivityKind.Client);
    }
}
