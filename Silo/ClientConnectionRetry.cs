using System.Net.Sockets;
using Orleans.Connections.Security;
using Orleans.Runtime.Messaging;

namespace OrderFlow.Silo;

/// <summary>
/// When the API's Orleans client tries again to reach the cluster at start (README "Cluster mode",
/// TLS). Gateways that are not there yet (the silos start after the API, or restart) are tried
/// again, with a growing pause, for about 3 minutes, as Orleans does by default. Gateways that
/// refuse this client at the handshake are not: another attempt meets the same certificates, so
/// the start fails soon with a <see cref="ConnectionFailedException"/> that says what did not
/// match, where Orleans' default tries for those 3 minutes and then says only that no gateway could
/// be reached. A gateway certificate this client rejects fails it at once; a gateway that takes
/// the connection and drops it before Orleans' handshake (it rejected this client's certificate, or
/// wants TLS from a client without one) does after <see cref="DroppedAttemptsLimit"/> attempts in
/// a row, since a gateway that is stopping may drop one too.
/// </summary>
public sealed class ClientConnectionRetry(ClusterTlsSettings? tls) : IClientConnectionRetryFilter
{
    /// <summary>Attempts after the first; the pauses grow by <see cref="PauseStep"/> each, 3 minutes in all.</summary>
    public const int MaxRetries = 15;

    public static readonly TimeSpan PauseStep = TimeSpan.FromSeconds(1.5);

    /// <summary>The pauses of all <see cref="MaxRetries"/> retries together: how long a client may wait for a gateway at start, attempts aside.</summary>
    public static TimeSpan Budget => PauseStep * (MaxRetries * (MaxRetries + 1) / 2);

    /// <summary>Attempts in a row whose gateway dropped the connection in the handshake that make a refusal.</summary>
    public const int DroppedAttemptsLimit = 3;

    private int retries;
    private int droppedAttempts;

    /// <summary>The last certificate a gateway presented that this client refused: subject and SHA-256 thumbprint (the certificate itself is the connection's, disposed with it).</summary>
    private string? rejectedGatewayCertificate;

    /// <summary>
    /// Notes, through the client's TLS options (<paramref name="options"/>, configured by
    /// <see cref="ClusterTlsSettings.Configure"/>), every certificate a gateway presented that this
    /// client did not accept.
    /// </summary>
    public void WatchGatewayCertificates(TlsOptions options)
    {
        var accepts = options.RemoteCertificateValidation
            ?? throw new InvalidOperationException("Configure the client's TLS options with ClusterTlsSettings.Configure first.");
        options.RemoteCertificateValidation = (certificate, chain, errors) =>
        {
            if (accepts(certificate, chain, errors))
            {
                return true;
            }

            Volatile.Write(ref rejectedGatewayCertificate, $"{certificate.Subject}, SHA-256 {ClusterCertificate.Thumbprint(certificate)}");
            return false;
        };
    }

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        droppedAttempts = DroppedInHandshake(exception) ? droppedAttempts + 1 : 0;
        if (TlsRefusal() is { } refusal)
        {
            throw new ConnectionFailedException(refusal, exception);
        }

        if (retries >= MaxRetries || cancellationToken.IsCancellationRequested || exception is not (ConnectionFailedException or OrleansMessageRejectionException))
        {
            return false;
        }

        retries++;
        await Task.Delay(PauseStep * retries, cancellationToken);
        return true;
    }

    /// <summary>Why the gateways refuse this client at the TLS handshake, or null when nothing says they do.</summary>
    private string? TlsRefusal()
    {
        // Taken, not read: only a certificate rejected in the attempt that just failed says why it failed.
        if (tls is not null && Interlocked.Exchange(ref rejectedGatewayCertificate, null) is { } gateway)
        {
            return $"The Orleans gateways present a TLS certificate this client does not accept ({gateway}): "
                + $"this client holds {tls.Certificate.Subject} (SHA-256 {ClusterCertificate.Thumbprint(tls.Certificate)})"
                + (tls.AcceptedThumbprints.Count > 0 ? $" and accepts {string.Join(", ", tls.AcceptedThumbprints)}" : " and accepts no other")
                + $". The API and the silos need the same cluster certificate ({ClusterTlsSettings.CertificateKey} or {ClusterTlsSettings.CertificatePathKey}), or its thumbprint in {ClusterTlsSettings.AcceptedThumbprintsKey}. README \"Cluster mode\", TLS.";
        }

        if (droppedAttempts < DroppedAttemptsLimit)
        {
            return null;
        }

        return tls is null
            ? $"The Orleans gateways took the connection and closed it before Orleans' handshake, {droppedAttempts} attempts in a row: the silos require TLS "
                + $"({ClusterTlsSettings.Section}) and this client has no certificate. Give the API the silos' cluster certificate ({ClusterTlsSettings.CertificateKey} or {ClusterTlsSettings.CertificatePathKey}). README \"Cluster mode\", TLS."
            : $"The Orleans gateways closed the connection in the TLS handshake, {droppedAttempts} attempts in a row: they do not accept this client's certificate "
                + $"({tls.Certificate.Subject}, SHA-256 {ClusterCertificate.Thumbprint(tls.Certificate)}). The API and the silos need the same cluster certificate "
                + $"({ClusterTlsSettings.CertificateKey} or {ClusterTlsSettings.CertificatePathKey}), or its thumbprint in the silos' {ClusterTlsSettings.AcceptedThumbprintsKey}. README \"Cluster mode\", TLS.";
    }

    /// <summary>
    /// Whether the gateway took the TCP connection and dropped it before Orleans' handshake was done
    /// (what a TLS refusal looks like from here), as opposed to refusing the connection (not
    /// listening yet) or not answering in time.
    /// </summary>
    private static bool DroppedInHandshake(Exception exception)
    {
        var innermost = exception;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }

        // A refused or unreachable port is a SocketException; a timed-out attempt is a ConnectionFailedException of its own.
        return !ReferenceEquals(innermost, exception) && innermost is not (SocketException or ConnectionFailedException);
    }
}
