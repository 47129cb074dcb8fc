using System.Diagnostics;
using System.Reflection;
using OrderFlow.Testing;

namespace OrderFlow.Infra.Tests.Bicep;

/// <summary>
/// The Bicep CLI restored from NuGet (<c>Azure.Bicep.CommandLine.linux-x64</c>, a binary under the
/// package's tools/ folder; Infra.Tests.csproj records where), run from the repository root.
/// </summary>
public static class BicepCli
{
    private static readonly Lazy<string> Executable = new(Locate);

    /// <summary>Runs <c>bicep</c> with these arguments to its end.</summary>
    public static async Task<BicepRun> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Executable.Value)
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return new BicepRun(process.ExitCode, await output, await errors);
    }

    private static string Locate()
    {
        var path = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "BicepCli").Value;
        if (path is null || !File.Exists(path))
        {
            throw new FileNotFoundException($"The Bicep CLI is not at '{path}': restore tests/Infra.Tests (its PackageDownload of Azure.Bicep.CommandLine.linux-x64).", path);
        }

        // The package is linux-x64's; NuGet may extract its files without their execute bit.
        if (OperatingSystem.IsLinux() && !File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        return path;
    }
}
