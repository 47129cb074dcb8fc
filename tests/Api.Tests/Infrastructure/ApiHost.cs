using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>
/// The real API host (ASP.NET Core + co-hosted Orleans silo) on Kestrel at a free loopback port,
/// with its own event table and cluster id, and HTTP clients for each role.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-4f1c9a0e7b";
    public const string WriterKey = "test-writer-key-8d2b6e1f3a";
    public const string ReaderKey = "test-reader-key-1a7c5d9e2f";

    private readonly WebApplication app;
    private readonly HttpClient http;

    private ApiHost(WebApplication app, Uri baseAddress, bool withKeys, string tableName)
    {
        this.app = app;
        TableName = tableName;
        StatisticsTableName = app.Configuration["Statistics:TableName"] ?? throw new InvalidOperationException("No Statistics:TableName.");
        BaseAddress = baseAddress;
        // Redirects are not followed: tests see every answer as the server gave it.
        http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Anonymous = new ApiClient(http, null);
        Admin = new ApiClient(http, withKeys ? AdminKey : null);
        Writer = new ApiClient(http, withKeys ? WriterKey : null);
        Reader = new ApiClient(http, withKeys ? ReaderKey : null);
    }

    public Uri BaseAddress { get; }

    /// <summary>The event table this host writes to.</summary>
    public string TableName { get; }

    /// <summary>Every table this host writes to: the event log, its change index, the projections' state.</summary>
    public IReadOnlyList<string> Tables => [TableName, TableName + "changes", StatisticsTableName];

    private string StatisticsTableName { get; }

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

    /// <summary>The arguments and settings for <see cref="ApiApplication.Build"/>, as a real deployment would pass them.</summary>
    public static (string[] Args, Dictionary<string, string?> Settings) Configuration(
        string connectionString, string environment, bool withKeys, int httpPort)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tables"] = connectionString,
            ["Orleans:SiloPort"] = Azurite.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = Azurite.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "api-tests-" + Guid.NewGuid().ToString("N")[..12],
            ["EventStore:TableName"] = TableNames.Unique("events"),
            ["Statistics:TableName"] = TableNames.Unique("stats"), // projections of different hosts must not share grain state
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
        };
        if (withKeys)
        {
            settings["Api:Keys:0:Key"] = AdminKey;
            settings["Api:Keys:0:Role"] = "admin";
            settings["Api:Keys:1:Key"] = WriterKey;
            settings["Api:Keys:1:Role"] = "writer";
            settings["Api:Keys:2:Key"] = ReaderKey;
            settings["Api:Keys:2:Role"] = "reader";
        }

        string[] args =
        [
            $"--urls=http://127.0.0.1:{httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            $"--environment={environment}",
        ];
        return (args, settings);
    }

    public static Task<ApiHost> StartAsync(
        string connectionString, string environment = "Production", bool withKeys = true, Action<WebApplicationBuilder>? configure = null) =>
        PortRetry.StartAsync(() => StartOnFreePortsAsync(connectionString, environment, withKeys, configure));

    private static async Task<ApiHost> StartOnFreePortsAsync(
        string connectionString, string environment, bool withKeys, Action<WebApplicationBuilder>? configure)
    {
        var port = Azurite.FreePort();
        var (args, settings) = Configuration(connectionString, environment, withKeys, port);
        var app = ApiApplication.Build(args, builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            configure?.Invoke(builder);
        });
        try
        {
            await app.StartAsync(CancellationToken.None);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new ApiHost(app, new Uri($"http://127.0.0.1:{port}"), withKeys,
            app.Configuration["EventStore:TableName"] ?? throw new InvalidOperationException("No EventStore:TableName."));
    }

    /// <summary>Stops the host as SIGTERM does (Kestrel and the co-hosted silo), without disposing it.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
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
