namespace OrderFlow.Silo;

/// <summary>
/// <c>dotnet OrderFlow.Silo.dll --new-cluster-certificate PATH</c>: the throwaway certificate of a
/// local cluster (<c>./run.sh --silos N</c>), made by the silo itself so that the script needs no
/// other tool. It is meant for one run on one machine, hence no password and a short life.
/// </summary>
public static class NewClusterCertificate
{
    public const string Argument = "--new-cluster-certificate";

    /// <summary>Long enough for a local cluster left running; a new run makes a new one.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(30);

    public static void Write(string path)
    {
        using var certificate = ClusterCertificate.CreateSelfSigned("orderflow-local-cluster", Validity);
        ClusterCertificate.WritePfx(certificate, path);
        Console.WriteLine($"{path}: SHA-256 {ClusterCertificate.Thumbprint(certificate)}");
    }
}
