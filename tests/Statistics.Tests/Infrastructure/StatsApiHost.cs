using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrderFlow.Api;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>The real API host (ASP.NET Core + co-hosted silo) on Kestrel, Development without keys, with its own tables.</summary>
public sealed class StatsApiHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private StatsApiHost(WebApplication app, Uri baseAddress, string eventsTable, string statisticsTable, CapturedLog log)
    {
        this.app = app;
        Log = log;
        EventsTable = eventsTable;
        StatisticsTable = statisticsTable;
        Http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 64 })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        Reader = new HttpStatsReader(Http);
    }

    public HttpClient Http { get; }

    /// <summary>Warnings and errors the host logged (Orleans' own from Error up).</summary>
    public CapturedLog Log { get; }

    /// <summary>The host's event log table.</summary>
    public string EventsTable { get; }

    /// <summary>The host's projection state table (grain storage, service id "orderflow").</summary>
    public string StatisticsTable { get; }

    public HttpStatsReader Reader { get; }

    private int retries;

    /// <summary>How many commands were answered 503 (storage overloaded) and sent again.</summary>
    public int Retries => retries;

    /// <param name="services">Registers more services, e.g. a grain call filter that injects faults.</param>
    public static Task<StatsApiHost> StartAsync(
        string connectionString, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? extraSettings = null,
        Action<IServiceCollection>? services = null) =>
        PortRetry.StartAsync(() => StartOnFreePortsAsync(connectionString, cancellationToken, extraSettings, services));

    private static async Task<StatsApiHost> StartOnFreePortsAsync(
        string connectionString, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? extraSettings,
        Action<IServiceCollection>? services)
    {
        var port = Azurite.FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tables"] = connectionString,
            ["Orleans:SiloPort"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "stats-tests-" + Guid.NewGuid().ToString("N")[..12],
            ["EventStore:TableName"] = TableNames.Unique("apiev"),
            ["Statistics:TableName"] = TableNames.Unique("apist"),
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
        };
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        string[] args = [$"--urls=http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--environment=Development"];
        var log = new CapturedLog();
        var app = ApiApplication.Build(args, builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.AddProvider(log);
            services?.Invoke(builder.Services);
        });
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new StatsApiHost(app, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"), settings["EventStore:TableName"]!, settings["Statistics:TableName"]!, log);
    }

    /// <summary>
    /// Sends the plan's commands over HTTP, one after the other, asserting 201 / 200. A 503 (storage
    /// overloaded, API.md) is retried after checking the order's version: a command whose append
    /// landed is not sent twice.
    /// </summary>
    public async Task SendAsync(OrderPlan plan, CancellationToken cancellationToken)
    {
        for (var i = 0; i < plan.Steps.Count; i++)
        {
            var step = plan.Steps[i];
            var (path, body) = Request(plan, step);
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
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 5,
                    $"POST {path} {body}: expected {(int)expectedStatus}, got {(int)response.StatusCode}: {answer}");
                Interlocked.Increment(ref retries);
                await Task.Delay(500 * attempt, cancellationToken);
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

    private static (string Path, string Body) Request(OrderPlan plan, Step step)
    {
        var at = step.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var order = "/api/orders/" + plan.OrderId;
        object body = step.Kind switch
        {
            StepKind.Place => new
            {
                orderId = plan.OrderId,
                customerId = plan.CustomerId,
                currency = plan.Currency,
                items = plan.Lines.Select(l => new { sku = l.Sku, quantity = l.Quantity, unitPrice = l.UnitPrice }),
                occurredAt = at,
            },
            StepKind.Pay => new { paymentId = step.Id, amount = step.Amount, method = "card", occurredAt = at },
            StepKind.Ship => new { carrier = "DHL", trackingNumber = "JD" + plan.OrderId, occurredAt = at },
            StepKind.Deliver => new { occurredAt = at },
            StepKind.Cancel => new { reason = "customer asked", occurredAt = at },
            StepKind.Refund => new { refundId = step.Id, amount = step.Amount, reason = "returned", occurredAt = at },
            _ => throw new InvalidOperationException(step.Kind.ToString()),
        };
        var path = step.Kind switch
        {
            StepKind.Place => "/api/orders",
            StepKind.Pay => order + "/payments",
            StepKind.Ship => order + "/shipment",
            StepKind.Deliver => order + "/delivery",
            StepKind.Cancel => order + "/cancellation",
            _ => order + "/refunds",
        };
        return (path, JsonSerializer.Serialize(body));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await app.StopAsync(timeout.Token);
        }
        finally
        {
            await app.DisposeAsync();
        }
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
