using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using OrderFlow.Silo;

namespace OrderFlow.Cluster.Tests;

/// <summary>
/// README "Cluster mode", TLS: which certificate a process holds and whom it accepts, read from
/// <c>Orleans:Tls</c>; a certificate that cannot serve stops the host at start with a message
/// naming the setting. No processes here.
/// </summary>
public sealed class ClusterTlsSettingsTests : IDisposable
{
    private const string Password = "s3cret-pass";

    private readonly string folder = Directory.CreateTempSubdirectory("orderflow-tls-").FullName;
    private readonly X509Certificate2 certificate = ClusterCertificate.CreateSelfSigned("orderflow-test", TimeSpan.FromDays(1));

    [Fact]
    public void Without_a_certificate_tls_is_off()
    {
        Assert.Null(ClusterTlsSettings.From(Configuration([])));
    }

    [Fact]
    public void A_pfx_file_and_a_base64_pfx_give_the_same_certificate()
    {
        var path = Pfx(certificate, Password);

        var fromFile = ClusterTlsSettings.From(Configuration(new() { [ClusterTlsSettings.CertificatePathKey] = path, [ClusterTlsSettings.CertificatePasswordKey] = Password }))!;
        var inline = ClusterTlsSettings.From(Configuration(new() { [ClusterTlsSettings.CertificateKey] = Convert.ToBase64String(File.ReadAllBytes(path)), [ClusterTlsSettings.CertificatePasswordKey] = Password }))!;

        Assert.Equal(certificate.Thumbprint, fromFile.Certificate.Thumbprint);
        Assert.Equal(certificate.Thumbprint, inline.Certificate.Thumbprint);
        Assert.True(fromFile.Certificate.HasPrivateKey);
    }

    [Fact]
    public void A_peer_is_accepted_with_the_same_certificate_or_a_pinned_thumbprint_only()
    {
        using var stranger = ClusterCertificate.CreateSelfSigned("orderflow-test", TimeSpan.FromDays(1));
        using var next = ClusterCertificate.CreateSelfSigned("orderflow-next", TimeSpan.FromDays(1));
        var colons = string.Join(':', ClusterCertificate.Thumbprint(next).Chunk(2).Select(pair => new string(pair))).ToLowerInvariant();
        var settings = ClusterTlsSettings.From(Configuration(new()
        {
            [ClusterTlsSettings.CertificatePathKey] = Pfx(certificate),
            [ClusterTlsSettings.AcceptedThumbprintsKey + ":0"] = colons,
        }))!;

        Assert.True(settings.Accepts(X509CertificateLoader.LoadCertificate(certificate.RawData)));
        Assert.True(settings.Accepts(next));
        Assert.False(settings.Accepts(stranger)); // the same subject name is not enough
        Assert.False(settings.Accepts(null));

        // One value separated by commas, as an environment variable may give it, counts too.
        var listed = ClusterTlsSettings.From(Configuration(new()
        {
            [ClusterTlsSettings.CertificatePathKey] = Pfx(certificate),
            [ClusterTlsSettings.AcceptedThumbprintsKey] = " " + colons + " , ",
        }))!;
        Assert.True(listed.Accepts(next));
        Assert.False(listed.Accepts(stranger));
    }

    [Theory]
    [InlineData("missing-file")]
    [InlineData("wrong-password")]
    [InlineData("not-base64")]
    [InlineData("not-a-pfx")]
    [InlineData("both")]
    [InlineData("no-private-key")]
    [InlineData("expired")]
    [InlineData("bad-thumbprint")]
    public void A_certificate_that_cannot_serve_stops_the_start_naming_the_setting(string problem)
    {
        var path = Pfx(certificate, Password);
        Dictionary<string, string?> settings = problem switch
        {
            "missing-file" => new() { [ClusterTlsSettings.CertificatePathKey] = Path.Combine(folder, "absent.pfx") },
            "wrong-password" => new() { [ClusterTlsSettings.CertificatePathKey] = path, [ClusterTlsSettings.CertificatePasswordKey] = "wrong-secret" },
            "not-base64" => new() { [ClusterTlsSettings.CertificateKey] = "not base64!" },
            "not-a-pfx" => new() { [ClusterTlsSettings.CertificateKey] = Convert.ToBase64String("hello"u8.ToArray()) },
            "both" => new() { [ClusterTlsSettings.CertificateKey] = Convert.ToBase64String(File.ReadAllBytes(path)), [ClusterTlsSettings.CertificatePathKey] = path },
            "no-private-key" => new() { [ClusterTlsSettings.CertificateKey] = Convert.ToBase64String(PublicOnlyPfx()) },
            "expired" => new() { [ClusterTlsSettings.CertificatePathKey] = path, [ClusterTlsSettings.CertificatePasswordKey] = Password },
            _ => new() { [ClusterTlsSettings.CertificatePathKey] = path, [ClusterTlsSettings.CertificatePasswordKey] = Password, [ClusterTlsSettings.AcceptedThumbprintsKey + ":0"] = "ABCD" },
        };
        var time = problem == "expired" ? new FixedTime(certificate.NotAfter.AddDays(1)) : TimeProvider.System;

        var error = Assert.Throws<InvalidOperationException>(() => ClusterTlsSettings.From(Configuration(settings), time));

        Assert.Contains("Orleans:Tls:", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", error.Message, StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine(error.Message);
    }

    public void Dispose()
    {
        certificate.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private string Pfx(X509Certificate2 source, string? password = null)
    {
        var path = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".pfx");
        ClusterCertificate.WritePfx(source, path, password);
        return path;
    }

    private byte[] PublicOnlyPfx()
    {
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        return publicOnly.Export(X509ContentType.Pfx);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
