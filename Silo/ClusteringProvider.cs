namespace OrderFlow.Silo;

/// <summary><c>Orleans:Clustering</c>: how silos find each other and clients find gateways.</summary>
public enum ClusteringProvider
{
    /// <summary>Every silo on this machine, the first one primary: today's single process.</summary>
    Localhost,

    /// <summary>The membership table in Azure Table Storage (Azurite here): any number of silos on any machines.</summary>
    AzureTable,
}
