using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Testing;
using OrderFlow.Api;
using OrderFlow.Testing.Logging;

namespace OrderFlow.Testing.Hosts;

/// <summary>
/// The real API host (ASP.NET Core + co-hosted Orleans silo), built by <see cref="ApiApplication.Build"/>
/// as <c>Api/Program.cs</c> builds it, on Kestrel at a free loopback port, configured only by
/// settings: its own silo ports, cluster id, event and statistics tables. The one way tests start it.
/// </summary>
public sealed class TestApiHost : IAsyncDisposable
{
    private TestApiHost(WebApplication app, Uri baseAddress, FakeLogCollector log)
    {
        App = app;
        BaseAddress = baseAddress;
        Log = log;
        EventsTable = Setting(app, "EventStore:TableName");
        StatisticsTable = Setting(app, "Statistics:TableName");
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    /// <summary>The event table this host writes to.</summary>
    public string EventsTable { get; }

    /// <summary>The projections' state table (grain storage).</summary>
    public string StatisticsTable { get; }

    /// <summary>Warnings and errors the host logged (as far as its log levels let them through).</summary>
    public FakeLogCollector Log { get; }

    /// <summary>
    /// The settings a real deployment of one API host would pass: the tables' storage, free silo and
    /// gateway ports, a cluster id and tables no other host uses (<paramref name="name"/> starts each),
    /// and quiet logs (warnings; Orleans' errors).
    /// </summary>
    public static Dictionary<string, string?> Settings(string connectionString, string name) => new()
    {
        ["ConnectionStrings:Tables"] = connectionString,
        ["Orleans:SiloPort"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Orleans:GatewayPort"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Orleans:ClusterId"] = name + "-tests-" + Guid.NewGuid().ToString("N")[..12],
        ["EventStore:TableName"] = TableNames.Unique(name + "ev"),
        ["Statistics:TableName"] = TableNames.Unique(name + "st"), // projections of different hosts must not share grain state
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:Orleans"] = "Error",
    };

    /// <summary>The command line of a host listening on loopback at <paramref name="httpPort"/>.</summary>
    public static string[] Arguments(int httpPort, string environment) =>
    [
        $"--urls=http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}",
        $"--environment={environment}",
    ];

    /// <summary>Starts a host on free ports (picked again if one was taken meanwhile).</summary>
    /// <param name="name">Starts the host's table names and cluster id.</param>
    /// <param name="settings">Settings on top of <see cref="Settings"/> (keys, a cluster to join…).</param>
    /// <param name="configure">Anything else, after the settings: services, token validation, more configuration.</param>
    public static Task<TestApiHost> StartAsync(
        string connectionString,
        CancellationToken cancellationToken,
        string name = "api",
        string environment = "Production",
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? configure = null) =>
        PortRetry.StartAsync(() => StartOnFreePortsAsync(connectionString, cancellationToken, name, environment, settings, configure));

    private static async Task<TestApiHost> StartOnFreePortsAsync(
        string connectionString,
        CancellationToken cancellationToken,
        string name,
        string environment,
        IReadOnlyDictionary<string, string?>? extraSettings,
        Action<WebApplicationBuilder>? configure)
    {
        var port = Azurite.FreePort();
        var settings = Settings(connectionString, name);
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var log = LogCapture.WarningsAndErrors();
        var app = ApiApplication.Build(Arguments(port, environment), builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.AddCapture(log);
            configure?.Invoke(builder);
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

        return new TestApiHost(app, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"), log);
    }

    /// <summary>Stops the host as SIGTERM does (Kestrel and the co-hosted silo), without disposing it.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => App.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await App.StopAsync(timeout.Token);
        }
        finally
        {
            await App.DisposeAsync();
        }
    }

    private static string Setting(WebApplication app, string key) =>
        app.Configuration[key] ?? throw new InvalidOperationException("No " + key + ".");
}
