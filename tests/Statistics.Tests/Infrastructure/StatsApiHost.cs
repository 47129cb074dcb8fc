using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;
using OrderFlow.Testing.Orders;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>The real API host (<see cref="TestApiHost"/>), Development without keys, with its own tables.</summary>
public sealed class StatsApiHost : IAsyncDisposable
{
    private readonly TestApiHost host;

    private StatsApiHost(TestApiHost host)
    {
        this.host = host;
        Http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 64 })
        {
            BaseAddress = host.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        Reader = new HttpStatsReader(Http);
    }

    public HttpClient Http { get; }

    /// <summary>The host's services (the co-hosted silo's among them).</summary>
    public IServiceProvider Services => host.App.Services;

    /// <summary>Warnings and errors the host logged (Orleans' own from Error up).</summary>
    public FakeLogCollector Log => host.Log;

    /// <summary>The host's event log table.</summary>
    public string EventsTable => host.EventsTable;

    /// <summary>The host's projection state table (grain storage, service id "orderflow").</summary>
    public string StatisticsTable => host.StatisticsTable;

    public HttpStatsReader Reader { get; }

    private int retries;

    /// <summary>How many commands were answered 503 (storage overloaded) and sent again.</summary>
    public int Retries => retries;

    /// <summary>
    /// Asks <c>/health/ready</c> until it answers 200 (with <paramref name="status"/>, when given) and
    /// returns that answer's body: on a loaded machine a check can outlast its budget
    /// (OperationsApi.CheckBudget), and readiness then answers 503 for that once.
    /// </summary>
    public async Task<string> WaitUntilReadyAsync(CancellationToken ct, string? status = null, TimeSpan? timeout = null)
    {
        var last = "";
        string? ready = null;
        await Eventually.UntilAsync(async () =>
        {
            using var response = await Http.GetAsync("/health/ready", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            last = $"{(int)response.StatusCode} {body}";
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }

            using var document = JsonDocument.Parse(body);
            if (status is not null && document.RootElement.GetProperty("status").GetString() != status)
            {
                return false;
            }

            ready = body;
            return true;
        }, $"/health/ready to answer 200 {status}".TrimEnd(), ct, timeout ?? TimeSpan.FromSeconds(30), () => last);
        return ready!;
    }

    /// <param name="services">Registers more services, e.g. a grain call filter that injects faults.</param>
    public static async Task<StatsApiHost> StartAsync(
        string connectionString, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? extraSettings = null,
        Action<IServiceCollection>? services = null) =>
        new(await TestApiHost.StartAsync(connectionString, cancellationToken, "stats", "Development", extraSettings,
            builder => services?.Invoke(builder.Services)));

    /// <summary>
    /// Sends the plan's commands over HTTP, one after the other, asserting 201 / 200. A 503 (storage
    /// overloaded, API.md) is retried after checking the order's version: a command whose append
    /// landed is not sent twice. A 429 (more commands a second than the caller may send: nothing was
    /// done) is sent again after its Retry-After, as a client does: scenarios send as fast as they can.
    /// </summary>
    public async Task SendAsync(OrderPlan plan, CancellationToken cancellationToken)
    {
        for (var i = 0; i < plan.Steps.Count; i++)
        {
            var step = plan.Steps[i];
            var command = plan.Command(step);
            var path = TestCommands.Path(plan.OrderId, command);
            var body = TestCommands.Body(command).ToJsonString();
            var expectedStatus = step.Kind == StepKind.Place ? HttpStatusCode.Created : HttpStatusCode.OK;
            for (var attempt = 1; ; attempt++)
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await Http.PostAsync(path, content, cancellationToken);
                if (response.StatusCode == expectedStatus)
                {
                    break;
                }

                var answer = await response.Content.ReadAsStringAsync(cancellationToken);
                Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests && attempt < 5,
                    $"POST {path} {body}: expected {(int)expectedStatus}, got {(int)response.StatusCode}: {answer}");
                Interlocked.Increment(ref retries);
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(500 * attempt), cancellationToken);
                if (await VersionAsync(plan.OrderId, cancellationToken) >= plan.VersionAfter(i))
                {
                    break;
                }
            }
        }
    }

    private async Task<int> VersionAsync(string orderId, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync("/api/orders/" + orderId, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return document.RootElement.GetProperty("version").GetInt32();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await host.DisposeAsync();
    }
}

/// <summary>One API host per test class, on the assembly's Azurite.</summary>
public sealed class StatsApiFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private StatsApiHost? host;

    public StatsApiHost Host => host ?? throw new InvalidOperationException("The API host has not started.");

    public async ValueTask InitializeAsync() => host = await StatsApiHost.StartAsync(azurite.ConnectionString, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}
