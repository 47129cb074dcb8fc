using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using OrderFlow.Api.Admin;
using OrderFlow.Testing;

namespace OrderFlow.Cluster.Tests.Infrastructure;

/// <summary>
/// A cluster of real processes as <c>./run.sh --silos 3</c> starts it (the script itself is run,
/// with --no-build: the test build made everything), on free ports and in a temporary DATA_DIR.
/// Silos are killed by their PID files and started again with <c>./run.sh --add-silo K</c>.
/// Disposal stops run.sh with SIGTERM and then kills whatever a PID file still names, so no
/// process outlives the tests even when one fails.
/// </summary>
public sealed class LocalCluster : IAsyncLifetime
{
    public const int Silos = 3;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string dataDir = Directory.CreateTempSubdirectory("orderflow-cluster-").FullName;
    private readonly ConcurrentQueue<string> output = new();
    private readonly List<Process> processes = [];
    private Dictionary<string, string> environment = [];
    private Process? runSh;

    public int SiloPort { get; private set; }

    public int GatewayPort { get; private set; }

    public HttpClient Http { get; private set; } = new();

    public string AzuriteTablePort => environment["AZURITE_TABLE_PORT"];

    /// <summary>The connection string of the cluster's Azurite (tables, queues): what the silos use.</summary>
    public string StorageConnection => $"DefaultEndpointsProtocol=http;AccountName={Azurite.AccountName};AccountKey={Azurite.AccountKey};"
        + $"TableEndpoint=http://127.0.0.1:{AzuriteTablePort}/{Azurite.AccountName};"
        + $"QueueEndpoint=http://127.0.0.1:{environment["AZURITE_QUEUE_PORT"]}/{Azurite.AccountName};";

    /// <summary>The TLS certificate run.sh made for this cluster (README "Cluster mode", TLS).</summary>
    public string CertificatePath => Path.Combine(dataDir, "tls", "cluster.pfx");

    /// <summary>A silo's log file, as run.sh writes it.</summary>
    public string LogOf(int silo) => File.ReadAllText(Path.Combine(dataDir, "logs", $"silo-{silo.ToString(CultureInfo.InvariantCulture)}.log"));

    public async ValueTask InitializeAsync()
    {
        // Silo K uses ORLEANS_SILO_PORT + K - 1: ranges with room for one more silo than the cluster has.
        SiloPort = FreeRange(Silos + 1);
        GatewayPort = FreeRange(Silos + 1, exclude: SiloPort);
        var apiPort = Azurite.FreePort();
        environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{apiPort.ToString(CultureInfo.InvariantCulture)}",
            ["AZURITE_BLOB_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
            ["AZURITE_QUEUE_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
            ["AZURITE_TABLE_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
            ["ORLEANS_SILO_PORT"] = SiloPort.ToString(CultureInfo.InvariantCulture),
            ["ORLEANS_GATEWAY_PORT"] = GatewayPort.ToString(CultureInfo.InvariantCulture),
            ["DATA_DIR"] = dataDir,
            ["Dashboard__Enabled"] = "false",
        };
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{apiPort.ToString(CultureInfo.InvariantCulture)}"),
            Timeout = TimeSpan.FromSeconds(30),
        };

        runSh = Start("run", ["--silos", Silos.ToString(CultureInfo.InvariantCulture), "--no-build"], environment);
        await WaitUntilAsync("the API answering /health/ready", TimeSpan.FromMinutes(3), async () =>
        {
            EnsureRunning(runSh, "run.sh");
            try
            {
                using var response = await Http.GetAsync("/health/ready");
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        });
        try
        {
            // Generous: a silo joins once it has reached every active silo, and on a loaded machine
            // the TLS handshakes of those first connections can outlast several 1 s probes (and
            // get a starting silo voted dead: it is started again).
            await EnsureAllSilosRunAsync();
        }
        catch (TimeoutException e)
        {
            // What the silos said is the only clue once the temporary folder is gone.
            throw new TimeoutException($"{e.Message}\n{Output()}\n{string.Join('\n', Enumerable.Range(1, Silos).Select(silo => $"--- silo-{silo}.log\n{Tail(LogOf(silo))}"))}", e);
        }
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(40));

    public int SiloPortOf(int silo) => SiloPort + silo - 1;

    public int? PidOf(string name)
    {
        var file = Path.Combine(dataDir, "pids", name + ".pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    public bool IsAlive(string name) => PidOf(name) is { } pid && IsAlive(pid);

    /// <summary>Sends a signal (KILL, TERM) to the process a PID file names.</summary>
    public int Signal(string name, string signal)
    {
        var pid = PidOf(name) ?? throw new InvalidOperationException($"No PID file for {name}.");
        Kill(signal, pid);
        return pid;
    }

    public static async Task WaitForExitAsync(int pid, TimeSpan timeout) =>
        await WaitUntilAsync($"process {pid} to exit", timeout, () => Task.FromResult(!IsAlive(pid)));

    /// <summary><c>./run.sh --add-silo K</c>, with extra settings; returns once its gateway port listens.</summary>
    public async Task<Process> AddSiloAsync(int silo, IReadOnlyDictionary<string, string>? settings = null)
    {
        var process = StartSilo(silo, settings);
        await WaitUntilAsync($"silo-{silo}'s gateway port", TimeSpan.FromMinutes(2), async () =>
        {
            EnsureRunning(process, $"run.sh --add-silo {silo}");
            return await Listens(GatewayPort + silo - 1);
        });
        return process;
    }

    /// <summary><c>./run.sh --add-silo K</c>, with extra settings, started; its output is kept with the others'.</summary>
    public Process StartSilo(int silo, IReadOnlyDictionary<string, string>? settings = null)
    {
        var variables = new Dictionary<string, string>(environment);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        return Start($"silo-{silo}", ["--add-silo", silo.ToString(CultureInfo.InvariantCulture), "--no-build"], variables);
    }

    /// <summary>run.sh with <paramref name="arguments"/> and this cluster's settings, for a command that ends by itself (one refused).</summary>
    public Task<ScriptResult> RunToEndAsync(params string[] arguments) => RunScriptToEndAsync(arguments, environment);

    /// <summary>run.sh with <paramref name="arguments"/>, this cluster's DATA_DIR and free ports of its own (<see cref="OwnPorts"/>), for a command that ends by itself.</summary>
    public Task<ScriptResult> RunOnOtherPortsToEndAsync(params string[] arguments) =>
        RunScriptToEndAsync(arguments, new Dictionary<string, string>(OwnPorts(dataDir)));

    /// <summary>Settings for a run.sh of a single process on free ports of its own, keeping its data in <paramref name="dataDirectory"/>.</summary>
    public static Dictionary<string, string> OwnPorts(string dataDirectory) => new()
    {
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Azurite.FreePort().ToString(CultureInfo.InvariantCulture)}",
        ["AZURITE_BLOB_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        ["AZURITE_QUEUE_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        ["AZURITE_TABLE_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        ["ORLEANS_SILO_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        ["ORLEANS_GATEWAY_PORT"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        ["DATA_DIR"] = dataDirectory,
        ["Dashboard__Enabled"] = "false",
    };

    /// <summary>run.sh with <paramref name="arguments"/> and <paramref name="variables"/>: its exit status and everything it printed.</summary>
    public static async Task<ScriptResult> RunScriptToEndAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> variables)
    {
        var start = RunShStartInfo(arguments, variables);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var standardOutput = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var standardError = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // It did not end by itself: it started something; leave nothing behind.
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"run.sh {string.Join(' ', arguments)} did not end within a minute.");
        }

        return new ScriptResult(process.ExitCode, await standardOutput + await standardError);
    }

    public async Task<ClusterReport> ClusterAsync() =>
        await TryClusterAsync() ?? throw new InvalidOperationException("GET /api/admin/cluster answered 503.");

    /// <summary>The cluster's silos; null while the management grain is unreachable (503: it was on a silo that just died).</summary>
    public async Task<ClusterReport?> TryClusterAsync()
    {
        using var response = await Http.GetAsync("/api/admin/cluster");
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            return null;
        }

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /api/admin/cluster: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<ClusterReport>(body, Json)!;
    }

    public async Task<ClusterReport> WaitForActiveSilosAsync(int count, TimeSpan timeout)
    {
        ClusterReport report = new([]);
        await WaitUntilAsync($"{count} active silos", timeout, async () =>
        {
            report = await TryClusterAsync() ?? report;
            return report.Silos.Count(s => s.Status == "Active") == count;
        });
        return report;
    }

    /// <summary>
    /// Waits until every silo of the cluster is active, restarting with --add-silo each that is not
    /// running: a test before may have killed one, and on a loaded machine the others can vote a
    /// starting silo dead, which then stops itself (exit 134). In Azure the platform starts such a
    /// replica again; here this does.
    /// </summary>
    public async Task EnsureAllSilosRunAsync()
    {
        await WaitUntilAsync($"{Silos} active silos", TimeSpan.FromMinutes(3), async () =>
        {
            for (var silo = 1; silo <= Silos; silo++)
            {
                if (!IsAlive($"silo-{silo}"))
                {
                    Keep("cluster fixture", $"silo-{silo} is not running: starting it again with --add-silo");
                    await AddSiloAsync(silo);
                }
            }

            return await TryClusterAsync() is { } report && report.Silos.Count(s => s.Status == "Active") == Silos;
        });
    }

    /// <summary>The last lines the processes printed, for failure messages.</summary>
    public string Output(int lines = 80) => string.Join('\n', output.TakeLast(lines));

    /// <summary>
    /// The errors the processes logged (console entries at <c>fail</c> or <c>crit</c>, each with its
    /// exception), the last <paramref name="entries"/> of run.sh's output (Azurite, the API) and of
    /// each silo's log file: what a failure message needs to name the cause of an unexpected answer
    /// once the cluster's folder is gone.
    /// </summary>
    public string LoggedErrors(int entries = 5)
    {
        var sources = new List<(string Name, IEnumerable<string> Lines)> { ("run.sh", output) };
        var logs = Path.Combine(dataDir, "logs");
        if (Directory.Exists(logs))
        {
            foreach (var file in Directory.EnumerateFiles(logs, "silo-*.log").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                sources.Add((name, ReadShared(file).Select(line => $"[{name}] {line}")));
            }
        }

        var described = sources.Select(source => (source.Name, Errors: ErrorEntries(source.Lines).TakeLast(entries).ToList()))
            .Where(source => source.Errors.Count > 0)
            .Select(source => $"-- {source.Name}:\n" + string.Join('\n', source.Errors.Select(entry => string.Join('\n', entry))))
            .ToList();
        return described.Count == 0 ? "(no error logged)" : string.Join('\n', described);
    }

    /// <summary>The <c>fail</c> and <c>crit</c> entries of console-logger lines, each prefixed "[label] ", with their indented continuation.</summary>
    private static List<List<string>> ErrorEntries(IEnumerable<string> lines)
    {
        var errors = new List<List<string>>();
        List<string>? current = null;
        foreach (var line in lines)
        {
            var message = line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..];
            if (message.StartsWith("fail: ", StringComparison.Ordinal) || message.StartsWith("crit: ", StringComparison.Ordinal))
            {
                errors.Add(current = [line]);
            }
            else if (current is not null && message.StartsWith(' ') && current.Count < 40)
            {
                current.Add(line); // the console logger indents an entry's message and exception
            }
            else
            {
                current = null;
            }
        }

        return errors;
    }

    /// <summary>A log file's lines while its silo may still be writing it.</summary>
    private static List<string> ReadShared(string path)
    {
        try
        {
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            var lines = new List<string>();
            while (reader.ReadLine() is { } line)
            {
                lines.Add(line);
            }

            return lines;
        }
        catch (IOException)
        {
            return []; // removed with its silo's folder: nothing to add
        }
    }

    /// <summary><see cref="Eventually.UntilAsync"/>, its arguments in the order these waits read best.</summary>
    public static Task WaitUntilAsync(string what, TimeSpan timeout, Func<Task<bool>> condition) =>
        Eventually.UntilAsync(condition, what, TestContext.Current.CancellationToken, timeout);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (runSh is { HasExited: false })
        {
            // run.sh stops the API, then every silo (also those --add-silo started), then Azurite.
            Kill("TERM", runSh.Id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await runSh.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Killed below.
            }
        }

        foreach (var process in processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited already.
            }
        }

        // Whatever a PID file still names (run.sh itself may have been killed): Azurite and the silos
        // lead process groups of their own.
        foreach (var file in Directory.Exists(Path.Combine(dataDir, "pids")) ? Directory.GetFiles(Path.Combine(dataDir, "pids")) : [])
        {
            if (int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var pid) && IsOurs(pid))
            {
                Kill("KILL", -pid, quiet: true);
                Kill("KILL", pid, quiet: true);
            }
        }

        foreach (var process in processes)
        {
            process.Dispose();
        }

        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
            // A process killed a moment ago may still be closing a file; the temp folder is the OS's to clean.
        }
    }

    private Process Start(string label, string[] arguments, IReadOnlyDictionary<string, string> variables)
    {
        var start = RunShStartInfo(arguments, variables);
        var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        process.OutputDataReceived += (_, e) => Keep(label, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(label, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes.Add(process);
        return process;
    }

    /// <summary>bash run.sh ARGUMENTS from the repository root, with <paramref name="variables"/> added to the environment, its output redirected.</summary>
    private static ProcessStartInfo RunShStartInfo(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> variables)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "run.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in variables)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    private void Keep(string label, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue($"[{label}] {line}");
        while (output.Count > 2000 && output.TryDequeue(out _))
        {
        }
    }

    private void EnsureRunning(Process process, string what)
    {
        if (process.HasExited)
        {
            throw new InvalidOperationException($"{what} exited with status {process.ExitCode}:\n{Output()}");
        }
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && !File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            return false;
        }
    }

    /// <summary>A process of this system (the number in a PID file may have been reused since).</summary>
    private static bool IsOurs(int pid)
    {
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            return commandLine.Contains(RepositoryRoot.Path, StringComparison.Ordinal) || commandLine.Contains("azurite", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void Kill(string signal, int pid, bool quiet = false)
    {
        var start = new ProcessStartInfo("kill", ["-s", signal, "--", pid.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardError = true,
        };
        using var kill = Process.Start(start) ?? throw new InvalidOperationException("Could not run kill.");
        kill.WaitForExit();
        if (kill.ExitCode != 0 && !quiet)
        {
            throw new InvalidOperationException($"kill -s {signal} {pid} failed: {kill.StandardError.ReadToEnd()}");
        }
    }

    private static async Task<bool> Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive free ports, away from <paramref name="exclude"/>'s range.
    /// Below the kernel's ephemeral range (Linux 32768–60999, macOS 49152–65535), where port 0 (so
    /// <see cref="Azurite.FreePort"/>'s ports) and every client socket's come from: none of them can
    /// take a killed silo's port before <c>--add-silo</c> binds it again.
    /// </summary>
    private static int FreeRange(int count, int exclude = 0)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var first = Random.Shared.Next(20_000, 32_000 - count);
            if (Math.Abs(first - exclude) < 2 * count)
            {
                continue;
            }

            if (Enumerable.Range(first, count).All(IsFree))
            {
                return first;
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
