using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrderFlow.Silo;

/// <summary>
/// The certificate every silo and the API's client of one cluster hold (README "Cluster mode",
/// TLS): loaded from a PFX with its private key, or made here, self-signed, for a local cluster
/// (<c>./run.sh --silos N</c>) or a test.
/// </summary>
public static class ClusterCertificate
{
    /// <summary>Extended key usages a peer's certificate needs: it serves (silo, gateway) and connects (silo, client).</summary>
    private static readonly OidCollection ServerAndClientAuthentication =
    [
        new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"),
        new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication"),
    ];

    /// <summary>A fresh self-signed certificate (ECDSA P-256) for both ends of a connection, valid from a minute ago for <paramref name="validity"/>.</summary>
    public static X509Certificate2 CreateSelfSigned(string subjectName, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + subjectName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(ServerAndClientAuthentication, critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-1), now.Add(validity));

        // Through PKCS #12 and back: on Linux a certificate made here carries its key only while
        // the key object lives; one loaded from a PFX owns its key, like a configured one.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), password: null);
    }

    /// <summary>Writes <paramref name="certificate"/> with its private key as a PFX readable by its owner only (mode 0600, also over an existing file).</summary>
    public static void WritePfx(X509Certificate2 certificate, string path, string? password = null)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var bytes = certificate.Export(X509ContentType.Pfx, password);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
        {
            // The create mode applies to a new file only: one written over keeps its mode, perhaps readable by all.
            File.SetUnixFileMode(file.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        file.Write(bytes);
    }

    /// <summary>
    /// Loads a PFX and checks what mutual TLS needs of it: a private key, validity now, and usages
    /// that allow both server and client authentication. <paramref name="source"/> names the setting
    /// in the error, which says what is wrong and never echoes the password or the certificate.
    /// </summary>
    public static X509Certificate2 Load(byte[] pfx, string? password, string source, TimeProvider time)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12(pfx, password, KeyStorage);
        }
        catch (CryptographicException e)
        {
            throw Unusable(source, $"it is not a PKCS #12 (PFX) file that opens with the password in {ClusterTlsSettings.Section}:CertificatePassword ({e.Message})");
        }

        var problem = ProblemOf(certificate, time.GetUtcNow());
        if (problem is not null)
        {
            certificate.Dispose();
            throw Unusable(source, problem);
        }

        return certificate;
    }

    /// <summary>
    /// The private key in memory only where that works: macOS refuses an ephemeral key set
    /// (PlatformNotSupportedException) and Windows' TLS cannot serve with one.
    /// </summary>
    private static X509KeyStorageFlags KeyStorage => OperatingSystem.IsLinux() ? X509KeyStorageFlags.EphemeralKeySet : X509KeyStorageFlags.DefaultKeySet;

    /// <summary>The SHA-256 hash of the certificate, hexadecimal: how <c>Orleans:Tls:AcceptedThumbprints</c> names one and the start-up log shows it.</summary>
    public static string Thumbprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    private static string? ProblemOf(X509Certificate2 certificate, DateTimeOffset now)
    {
        if (!certificate.HasPrivateKey)
        {
            return "it holds no private key (export the certificate with its key)";
        }

        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            return $"it is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u} only";
        }

        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault()?.EnhancedKeyUsages;
        if (usages is not null && !ServerAndClientAuthentication.Cast<Oid>().All(needed => usages.Cast<Oid>().Any(usage => usage.Value == needed.Value)))
        {
            return "its extended key usages must include both Server Authentication and Client Authentication: every silo serves and connects with it";
        }

        return null;
    }

    private static InvalidOperationException Unusable(string source, string problem) =>
        new($"The Orleans TLS certificate in {source} cannot be used: {problem}. README \"Cluster mode\", TLS.");
}
