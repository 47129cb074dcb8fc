using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace OrderFlow.Silo;

/// <summary>
/// <c>Orleans:Tls</c> (README "Cluster mode", TLS): mutual TLS on every Orleans connection, silo to
/// silo and client to gateway, so that the grain calls' arguments (personal data, subjects' keys)
/// never cross the network in plain text. Every silo and the API's client hold the one cluster
/// certificate, present it on every connection, and accept a peer only when it presents that same
/// certificate (or one pinned in <see cref="AcceptedThumbprints"/>, for a rotation). Off when no
/// certificate is configured: the single process needs none.
/// </summary>
public sealed class ClusterTlsSettings
{
    public const string Section = "Orleans:Tls";

    /// <summary>A base64 PFX (a Container Apps secret; a Key Vault certificate's secret value is one).</summary>
    public const string CertificateKey = Section + ":Certificate";

    /// <summary>A PFX file.</summary>
    public const string CertificatePathKey = Section + ":CertificatePath";

    /// <summary>The PFX's password, if it has one.</summary>
    public const string CertificatePasswordKey = Section + ":CertificatePassword";

    /// <summary>SHA-256 thumbprints of other certificates a peer may present (a rotation's new or old one).</summary>
    public const string AcceptedThumbprintsKey = Section + ":AcceptedThumbprints";

    private ClusterTlsSettings(X509Certificate2 certificate, IReadOnlyList<string> acceptedThumbprints)
    {
        Certificate = certificate;
        AcceptedThumbprints = acceptedThumbprints;
    }

    /// <summary>What this process presents, and accepts from its peers.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Certificates besides <see cref="Certificate"/> a peer may present, by SHA-256 thumbprint (hexadecimal, upper case).</summary>
    public IReadOnlyList<string> AcceptedThumbprints { get; }

    /// <summary>
    /// The settings, or null when neither <see cref="CertificateKey"/> nor <see cref="CertificatePathKey"/>
    /// is set (TLS off). A certificate that cannot be loaded or used stops the host at start, naming the setting.
    /// </summary>
    public static ClusterTlsSettings? From(IConfiguration configuration, TimeProvider? time = null)
    {
        var inline = configuration[CertificateKey];
        var path = configuration[CertificatePathKey];
        var hasInline = !string.IsNullOrWhiteSpace(inline);
        var hasPath = !string.IsNullOrWhiteSpace(path);
        if (!hasInline && !hasPath)
        {
            return null;
        }

        if (hasInline && hasPath)
        {
            throw new InvalidOperationException($"Both {CertificateKey} and {CertificatePathKey} are set; give the Orleans TLS certificate one way.");
        }

        var password = configuration[CertificatePasswordKey] is { Length: > 0 } given ? given : null;
        byte[] pfx;
        string source;
        if (hasInline)
        {
            source = CertificateKey;
            try
            {
                pfx = Convert.FromBase64String(inline!.Trim());
            }
            catch (FormatException)
            {
                throw new InvalidOperationException($"{CertificateKey} is not base64: give the PFX file's bytes in base64 (base64 -w0 cluster.pfx), or a file in {CertificatePathKey}.");
            }
        }
        else
        {
            source = $"{CertificatePathKey} ('{path}')";
            try
            {
                pfx = File.ReadAllBytes(path!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"The Orleans TLS certificate in {source} cannot be read: {e.Message}");
            }
        }

        var certificate = ClusterCertificate.Load(pfx, password, source, time ?? TimeProvider.System);
        // Entries (AcceptedThumbprints:0, :1, ...) or one value separated by commas: either way, none is ignored.
        var acceptedSection = configuration.GetSection(AcceptedThumbprintsKey);
        var accepted = acceptedSection.Value is { } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : acceptedSection.Get<string[]>() ?? [];
        return new ClusterTlsSettings(certificate, [.. accepted.Select(NormalizedThumbprint)]);
    }

    /// <summary>Whether a peer that presented <paramref name="remote"/> is one of this cluster's processes.</summary>
    public bool Accepts(X509Certificate2? remote) =>
        remote is not null
        && (remote.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span)
            || AcceptedThumbprints.Contains(ClusterCertificate.Thumbprint(remote), StringComparer.Ordinal));

    /// <summary>
    /// Mutual TLS, both ways: the certificate is presented when connecting and required of whoever
    /// connects; the peer's certificate is judged by <see cref="Accepts"/> alone. Chain and host
    /// name are not checked: the certificate is self-signed or of a private issuer, and a silo is
    /// reached on an IP address that no certificate names.
    /// </summary>
    public void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (remote, _, _) => Accepts(remote);
    }

    /// <summary>How the start-up log names this setting: subject, SHA-256 thumbprint and expiry, never the key.</summary>
    public string Describe() =>
        $"mutual TLS with {Certificate.Subject} (SHA-256 {ClusterCertificate.Thumbprint(Certificate)}, valid until {Certificate.NotAfter.ToUniversalTime():u})"
        + (AcceptedThumbprints.Count > 0 ? $", also accepting {string.Join(", ", AcceptedThumbprints)}" : "");

    private static string NormalizedThumbprint(string thumbprint)
    {
        var hex = thumbprint.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit)
            ? hex
            : throw new InvalidOperationException($"{AcceptedThumbprintsKey} holds '{thumbprint}', which is not a SHA-256 thumbprint (64 hexadecimal digits, colons allowed).");
    }
}
