using System.Diagnostics;
using System.Runtime.Versioning;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Cluster.Tests;

/// <summary>
/// The local cluster's certificate holds the key that admits a process to the cluster (README
/// "Cluster mode", TLS): its folder (<c>$DATA_DIR/tls</c>) and the PFX are their owner's only,
/// also when an earlier run or another umask left them readable by others. No processes but bash.
/// </summary>
[UnsupportedOSPlatform("windows")] // file modes; and bash, like every test of this project
public sealed class ClusterCertificateFileTests : IDisposable
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OpenFolder = OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode OpenFile = OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string dataDir = Directory.CreateTempSubdirectory("orderflow-tls-modes-").FullName;

    [Fact]
    public async Task The_scripts_make_the_certificate_folder_and_a_reused_pfx_their_owners_only()
    {
        var folder = Path.Combine(dataDir, "tls");
        Directory.CreateDirectory(folder, OpenFolder);
        var pfx = Path.Combine(folder, "cluster.pfx");
        File.WriteAllBytes(pfx, [1, 2, 3]);
        File.SetUnixFileMode(pfx, OpenFile);

        var printed = await ClusterCertificateOfScripts();

        Assert.Equal(pfx, printed);
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(folder));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(pfx));
    }

    [Fact]
    public async Task The_scripts_make_a_new_certificate_folder_their_owners_only()
    {
        var printed = await ClusterCertificateOfScripts();

        Assert.Equal(Path.Combine(dataDir, "tls", "cluster.pfx"), printed);
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Path.Combine(dataDir, "tls")));
    }

    [Fact]
    public void A_pfx_written_over_one_readable_by_others_is_its_owners_only()
    {
        var pfx = Path.Combine(dataDir, "cluster.pfx");
        File.WriteAllBytes(pfx, [1, 2, 3]);
        File.SetUnixFileMode(pfx, OpenFile);
        using var certificate = ClusterCertificate.CreateSelfSigned("orderflow-test", TimeSpan.FromDays(1));

        ClusterCertificate.WritePfx(certificate, pfx);

        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(pfx));
        Assert.True(new FileInfo(pfx).Length > 3, "the PFX was not written");
    }

    public void Dispose() => Directory.Delete(dataDir, recursive: true);

    /// <summary>What <c>cluster_certificate</c> of scripts/cluster.sh prints, with this test's DATA_DIR.</summary>
    private async Task<string> ClusterCertificateOfScripts()
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("source scripts/lib.sh && source scripts/cluster.sh && cluster_certificate");
        start.Environment["DATA_DIR"] = dataDir;
        using var bash = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var output = bash.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = bash.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await bash.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(bash.ExitCode == 0, $"cluster_certificate exited with {bash.ExitCode}: {await error}");
        return (await output).Trim();
    }
}
