namespace OrderFlow.Silo;

/// <summary><c>Orleans:ApiHost</c>: whether the API process is a silo or only a client of the cluster.</summary>
public enum ApiHostShape
{
    /// <summary>The API co-hosts a silo that serves grains (the default: one process).</summary>
    CoHosted,

    /// <summary>The API joins the cluster as an Orleans client; grains live in the standalone silos.</summary>
    Client,
}
