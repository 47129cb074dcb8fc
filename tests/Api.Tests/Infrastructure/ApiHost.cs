using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Testing;
using OrderFlow.Testing.Hosts;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>
/// The real API host (<see cref="TestApiHost"/>: ASP.NET Core + co-hosted Orleans silo) on a free
/// loopback port, with its own tables and cluster id, and HTTP clients for each role.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-4f1c9a0e7b";
    public const string WriterKey = "test-writer-key-8d2b6e1f3a";
    public const string ReaderKey = "test-reader-key-1a7c5d9e2f";

    private readonly TestApiHost host;
    private readonly HttpClient http;

    private ApiHost(TestApiHost host, bool withKeys)
    {
        this.host = host;
        // Redirects are not followed: tests see every answer as the server gave it.
        http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Anonymous = new ApiClient(http, null);
        Admin = new ApiClient(http, withKeys ? AdminKey : null);
        Writer = new ApiClient(http, withKeys ? WriterKey : null);
        Reader = new ApiClient(http, withKeys ? ReaderKey : null);
    }

    public Uri BaseAddress => host.BaseAddress;

    /// <summary>The event table this host writes to.</summary>
    public string TableName => host.EventsTable;

    /// <summary>
    /// Every table this host writes to: the orders' and the customers' logs, the change index, the
    /// subjects' keys, the projections' state.
    /// </summary>
    public IReadOnlyList<string> Tables =>
    [
        TableName, new EventStoreOptions { TableName = TableName }.TableNameOf(CustomerEventSource.CategoryName),
        TableName + "changes", new PersonalDataOptions().KeysTableNameFor(TableName), host.StatisticsTable,
    ];

    /// <summary>Warnings and errors the host logged.</summary>
    public FakeLogCollector Log => host.Log;

    /// <summary>No credentials at all.</summary>
    public ApiClient Anonymous { get; }

    public ApiClient Admin { get; }

    /// <summary>May only send commands.</summary>
    public ApiClient Writer { get; }

    /// <summary>May only read.</summary>
    public ApiClient Reader { get; }

    public ApiClient WithKey(string key) => new(http, key);

    /// <summary>Sends <c>Authorization: Bearer</c> with <paramref name="token"/> (see <see cref="TestTokens"/>).</summary>
    public ApiClient WithToken(string token) => new(http, null, token);

    /// <summary>Sends a request exactly as built (no credentials added).</summary>
    public Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request) =>
        http.SendAsync(request, TestContext.Current.CancellationToken);

    /// <summary>Waits until <c>/health/ready</c> answers 200: after start-up, or once storage is back after an outage.</summary>
    public Task WaitUntilReadyAsync()
    {
        var last = "";
        return Eventually.UntilAsync(async () =>
        {
            using var ready = await Anonymous.GetAsync("/health/ready");
            last = $"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}";
            return ready.StatusCode == HttpStatusCode.OK;
        }, "/health/ready to answer 200", TestContext.Current.CancellationToken, TimeSpan.FromSeconds(30), () => last);
    }

    /// <summary>The admin, writer and reader keys, as settings.</summary>
    public static Dictionary<string, string?> KeySettings() => new()
    {
        ["Api:Keys:0:Key"] = AdminKey,
        ["Api:Keys:0:Role"] = "admin",
        ["Api:Keys:1:Key"] = WriterKey,
        ["Api:Keys:1:Role"] = "writer",
        ["Api:Keys:2:Key"] = ReaderKey,
        ["Api:Keys:2:Role"] = "reader",
    };

    /// <summary>The arguments and settings for <see cref="ApiApplication.Build"/>, as a real deployment would pass them.</summary>
    public static (string[] Args, Dictionary<string, string?> Settings) Configuration(
        string connectionString, string environment, bool withKeys, int httpPort)
    {
        var settings = TestApiHost.Settings(connectionString, "api");
        if (withKeys)
        {
            foreach (var (key, value) in KeySettings())
            {
                settings[key] = value;
            }
        }

        return (TestApiHost.Arguments(httpPort, environment), settings);
    }

    public static async Task<ApiHost> StartAsync(
        string connectionString, string environment = "Production", bool withKeys = true, Action<WebApplicationBuilder>? configure = null) =>
        new(await TestApiHost.StartAsync(connectionString, CancellationToken.None, "api", environment, withKeys ? KeySettings() : null, configure), withKeys);

    /// <summary>Stops the host as SIGTERM does (Kestrel and the co-hosted silo), without disposing it.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => host.StopAsync(cancellationToken);

    /// <summary>
    /// Stops the host as the console lifetime does on SIGTERM: ApplicationStopping is raised first,
    /// then the host stops (<see cref="StopAsync"/>).
    /// </summary>
    public Task SignalStopAsync(CancellationToken cancellationToken)
    {
        host.App.Lifetime.StopApplication();
        return host.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await host.DisposeAsync();
    }
}
