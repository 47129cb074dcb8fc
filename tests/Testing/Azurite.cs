using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;

namespace OrderFlow.Testing;

/// <summary>
/// A real Azurite table service, started from the repository's node_modules on a free loopback
/// port. In-memory by default; with a data folder, it keeps its data across <see cref="StopAsync"/>
/// and <see cref="StartAsync"/> like a restarted storage account.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public, documented, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string? dataFolder;
    private readonly string service;
    private Process? process;

    private Azurite(int port, string? dataFolder, string service)
    {
        Port = port;
        this.dataFolder = dataFolder;
        this.service = service;
    }

    public int Port { get; }

    /// <summary>A connection string for this instance's service (tables, or queues for <see cref="StartQueuesAsync"/>).</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};{(service == "table" ? "Table" : "Queue")}Endpoint=http://127.0.0.1:{Port}/{AccountName};";

    public bool IsRunning => process is { HasExited: false };

    public static Task<Azurite> StartNewAsync(string? dataFolder = null, CancellationToken cancellationToken = default) =>
        StartOnFreePortAsync(dataFolder, "table", cancellationToken);

    /// <summary>Azurite's queue service (in memory), for Azure Queue streams.</summary>
    public static Task<Azurite> StartQueuesAsync(CancellationToken cancellationToken = default) =>
        StartOnFreePortAsync(null, "queue", cancellationToken);

    /// <summary>A port free when asked may be taken by another test's process before node binds it: then another port.</summary>
    private static Task<Azurite> StartOnFreePortAsync(string? dataFolder, string service, CancellationToken cancellationToken) =>
        PortRetry.StartAsync(async () =>
        {
            var azurite = new Azurite(FreePort(), dataFolder, service);
            await azurite.StartAsync(cancellationToken);
            return azurite;
        });

    public TableServiceClient CreateServiceClient() => new(ConnectionString);

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }

        var script = Path.Combine(RepositoryRoot.Path, "node_modules", "azurite", "dist", "src", service, "main.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed at {script}. Run ./test.sh, or 'npm ci' in the repository root.");
        }

        var start = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { script, $"--{service}Host", "127.0.0.1", $"--{service}Port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--disableTelemetry", "--silent", "--skipApiVersionCheck" })
        {
            start.ArgumentList.Add(argument);
        }

        if (dataFolder is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            Directory.CreateDirectory(dataFolder);
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(dataFolder);
        }

        // Azurite prints a line once its server listens ("Azurite Table service successfully started on
        // 127.0.0.1:PORT", "Azurite Queue service successfully listens on http://127.0.0.1:PORT"). A TCP
        // probe could not tell: with the port taken by another process between FreePort and node's
        // bind, the probe reached that listener.
        var address = $"127.0.0.1:{Port}";
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is { } text && text.Contains(" successfully ", StringComparison.Ordinal) && text.Contains(address, StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                errors.Enqueue(text);
            }
        };
        process.Exited += (_, _) => listening.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            await StopAsync(); // no node left behind on a port nobody will use
            throw exception is TimeoutException ? new TimeoutException($"Azurite did not listen on port {Port} within 30 s.") : exception;
        }

        if (process.HasExited)
        {
            process.WaitForExit(); // the rest of its standard error
            var error = string.Join(Environment.NewLine, errors);
            process.Dispose();
            process = null;
            if (error.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Azurite could not listen on port {Port}: it is in use.", new SocketException((int)SocketError.AddressAlreadyInUse));
            }

            throw new InvalidOperationException($"Azurite exited at start (port {Port}): {error}");
        }
    }

    /// <summary>
    /// With a data folder, Azurite saves its whole table database to disk every 5 s: waits until a
    /// save holds a row of partition <paramref name="partitionKey"/> (an order's log), so that a
    /// restart keeps it. A row's key, not any mention: a placement's change-index row names the order
    /// before its append is written, and a save between the two held the order's id without its events.
    /// </summary>
    public Task WaitUntilSavedAsync(string partitionKey, CancellationToken cancellationToken)
    {
        var file = Path.Combine(dataFolder ?? throw new InvalidOperationException("Azurite keeps its data in memory: nothing is saved."), "__azurite_db_table__.json");
        var row = $"\"PartitionKey\":\"{partitionKey}\"";
        return Eventually.UntilAsync(async () =>
        {
            try
            {
                return File.Exists(file) && (await File.ReadAllTextAsync(file, cancellationToken)).Contains(row, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false; // being written right now: look again
            }
        }, $"Azurite to save a row of partition {partitionKey} to {file}", cancellationToken, TimeSpan.FromSeconds(20));
    }

    /// <summary>Stops the process, as a storage outage would.</summary>
    public async Task StopAsync()
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        process = null;
    }

    /// <summary>
    /// Freezes the process (SIGSTOP) until the result is disposed (SIGCONT): connections are
    /// accepted but nothing is answered, like storage that hangs instead of failing.
    /// </summary>
    public IDisposable Suspend()
    {
        var pid = process?.Id ?? throw new InvalidOperationException("Azurite is not running.");
        Signal("-STOP", pid);
        return new Resumption(pid);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("Could not run kill.");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {pid} failed with exit code {kill.ExitCode}.");
        }
    }

    private sealed class Resumption(int pid) : IDisposable
    {
        public void Dispose() => Signal("-CONT", pid);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
