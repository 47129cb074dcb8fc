using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using OpenTelemetry.Metrics;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Grains.Telemetry;

namespace OrderFlow.Api.Tests.Telemetry;

/// <summary>
/// README "Telemetry": one trace per command, from the HTTP request to each projection that counts
/// it, for orders and customers alike; the system's own metrics; the dashboard's log stream closed outside Development.
/// </summary>
public sealed class ObservabilityTests(RecordingApiHost fixture) : IClassFixture<RecordingApiHost>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The host exports nowhere by its configuration (the test's in-memory exporter is not in it), so
    /// a command that no traced caller sent is not recorded (TraceSamplingTests); its spans still
    /// exist for their context, which the correlation id defaults to.
    /// </summary>
    [Fact]
    public async Task A_command_without_a_traced_caller_still_has_its_trace_id_as_its_correlation_id()
    {
        using var response = await fixture.Host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Matches("^[0-9a-f]{32}$", Assert.Single(response.Headers.GetValues("X-Correlation-Id")));
    }

    [Fact]
    public async Task A_placement_is_one_trace_through_the_grain_call_the_table_transaction_the_stream_and_the_projections()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var orderId = TestOrders.NewId();

        // The caller's trace: HttpClient sends it in traceparent, as a client that traces would.
        using (var caller = new Activity("test-caller").SetParentId(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start())
        {
            using var response = await fixture.Host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(orderId).ToJsonString());
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var trace = await SpansUntilAsync(traceId, spans => spans.Any(span => IsProjectionOf(span, orderId)));
        var seen = string.Join("\n", trace.Select(span => $"{span.Source.Name}: {span.DisplayName} ({span.Kind})"));

        Assert.True(trace.Any(span => span.Source.Name == "Microsoft.AspNetCore" && span.Kind == ActivityKind.Server),
            $"No HTTP request span in the trace:\n{seen}");
        Assert.True(trace.Any(span => span.Source.Name.StartsWith("Microsoft.Orleans.", StringComparison.Ordinal) && span.DisplayName.Contains("IOrderGrain", StringComparison.Ordinal)),
            $"No span of the order grain's call in the trace:\n{seen}");
        Assert.True(trace.Any(span => span.Source.Name.StartsWith("Azure.Data.Tables", StringComparison.Ordinal) && span.DisplayName.Contains("SubmitTransaction", StringComparison.Ordinal)),
            $"No span of the event log's table transaction in the trace:\n{seen}");
        Assert.True(trace.Any(span => span.Source.Name == OrderFlowTelemetry.Name && span.OperationName == OrderFlowTelemetry.PublishActivity && span.Kind == ActivityKind.Producer),
            $"No span of the publication to the stream in the trace:\n{seen}");
        Assert.True(trace.Any(span => IsProjectionOf(span, orderId) && span.Kind == ActivityKind.Consumer),
            $"No projection span of {orderId} in the trace:\n{seen}");

        // Its parent is the publication, whose context only the event envelope carried to the consumer.
        var publication = trace.Single(span => span.OperationName == OrderFlowTelemetry.PublishActivity);
        Assert.All(trace.Where(span => IsProjectionOf(span, orderId)), projection => Assert.Equal(publication.SpanId, projection.ParentSpanId));
    }

    [Fact]
    public async Task A_registration_is_one_trace_through_the_publication_to_the_customer_projections_span()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var customerId = TestCustomers.NewId();

        using (var caller = new Activity("test-caller").SetParentId(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start())
        {
            using var response = await fixture.Host.Writer.PostAsync("/api/customers", TestCustomers.RegisterBody(customerId).ToJsonString());
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var trace = await SpansUntilAsync(traceId, spans => spans.Any(span => IsProjectionOf(span, "customer", customerId)));
        var seen = string.Join("\n", trace.Select(span => $"{span.Source.Name}: {span.DisplayName} ({span.Kind}) {span.GetTagItem("orderflow.customer.id")}"));

        var projection = trace.SingleOrDefault(span => IsProjectionOf(span, "customer", customerId));
        Assert.True(projection is { Kind: ActivityKind.Consumer }, $"No projection span of {customerId} in the trace:\n{seen}");
        Assert.Equal(1, projection.GetTagItem("orderflow.customer.version"));
        Assert.Equal("CustomerRegistered", projection.GetTagItem(OrderFlowTelemetry.EventTypeTag));
        var publication = Assert.Single(trace, span => span.OperationName == OrderFlowTelemetry.PublishActivity && span.GetTagItem("orderflow.customer.id") as string == customerId);
        Assert.Equal(publication.SpanId, projection.ParentSpanId);
    }

    [Fact]
    public async Task Commands_by_type_and_outcome_appends_publications_and_projection_lag_are_measured()
    {
        var orderId = await fixture.Host.OrderInStatusAsync("placed");
        using var refused = await fixture.Host.Writer.PostAsync($"/api/orders/{orderId}/shipment", TestOrders.ShipBody().ToJsonString());
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);

        bool Measured(MetricSnapshot[] metrics) =>
            HasPoint(metrics, OrderFlowTelemetry.CommandsCounter, ("PlaceOrder", "applied"))
            && HasPoint(metrics, OrderFlowTelemetry.CommandsCounter, ("ShipOrder", "invalidtransition"))
            && metrics.Any(m => m.Name == OrderFlowTelemetry.AppendDurationHistogram)
            && metrics.Any(m => m.Name == OrderFlowTelemetry.EventsPublishedCounter)
            && metrics.Any(m => m.Name == OrderFlowTelemetry.ProjectionLagHistogram);

        var deadline = DateTime.UtcNow + Deadline;
        var metrics = fixture.Metrics.Snapshot();
        while (!Measured(metrics) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            metrics = fixture.Metrics.Snapshot();
        }

        var names = string.Join(", ", metrics.Select(m => m.Name).Where(name => name.StartsWith("orderflow.", StringComparison.Ordinal)).Distinct());
        Assert.True(HasPoint(metrics, OrderFlowTelemetry.CommandsCounter, ("PlaceOrder", "applied")), $"No applied placement counted; OrderFlow metrics seen: {names}");
        Assert.True(HasPoint(metrics, OrderFlowTelemetry.CommandsCounter, ("ShipOrder", "invalidtransition")), $"No refused shipment counted; OrderFlow metrics seen: {names}");
        Assert.Contains(metrics, m => m.Name == OrderFlowTelemetry.AppendDurationHistogram && m.Unit == "s");
        Assert.Contains(metrics, m => m.Name == OrderFlowTelemetry.EventsPublishedCounter);
        Assert.Contains(metrics, m => m.Name == OrderFlowTelemetry.ProjectionLagHistogram && m.Unit == "s");
    }

    [Fact]
    public async Task The_dashboards_log_stream_is_closed_outside_Development_even_to_an_admin()
    {
        // Production (the host's environment). In Development the stream would answer 200 and never end.
        using var response = await fixture.Host.Anonymous.GetAsync("/dashboard/Trace", request =>
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{ApiHost.AdminKey}"))));

        var body = await response.BodyAsync();
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("disabled", body, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether a point of <paramref name="metric"/> has the command type and outcome tags given.</summary>
    private static bool HasPoint(MetricSnapshot[] metrics, string metric, (string Type, string Outcome) command) =>
        metrics.Where(m => m.Name == metric).SelectMany(m => m.MetricPoints).Any(point =>
        {
            string? type = null, outcome = null;
            foreach (var tag in point.Tags)
            {
                type = tag.Key == OrderFlowTelemetry.CommandTypeTag ? tag.Value as string : type;
                outcome = tag.Key == OrderFlowTelemetry.CommandOutcomeTag ? tag.Value as string : outcome;
            }

            return type == command.Type && outcome == command.Outcome;
        });

    private static bool IsProjectionOf(Activity span, string orderId) => IsProjectionOf(span, "order", orderId);

    /// <summary>A projections' span of stream <paramref name="id"/> of <paramref name="category"/> (tagged <c>orderflow.{category}.id</c>).</summary>
    private static bool IsProjectionOf(Activity span, string category, string id) =>
        span.Source.Name == OrderFlowTelemetry.Name && span.OperationName == OrderFlowTelemetry.ProjectActivity
        && span.GetTagItem("orderflow." + category + ".id") as string == id;

    /// <summary>The spans of <paramref name="traceId"/> once <paramref name="complete"/> holds of them, or at the deadline.</summary>
    private async Task<Activity[]> SpansUntilAsync(ActivityTraceId traceId, Func<Activity[], bool> complete)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var spans = fixture.Spans.Snapshot().Where(span => span.TraceId == traceId).ToArray();
            if (complete(spans) || DateTime.UtcNow > deadline)
            {
                return spans;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
