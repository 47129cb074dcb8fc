using Microsoft.Extensions.Hosting;
using OrderFlow.Silo;

// A standalone silo, configured by appsettings.json and environment variables (Orleans__Clustering,
// Orleans__SiloPort, ConnectionStrings__Tables…; README "Cluster mode"). It logs where it listens
// once active, and Orleans' "Silo started" when ready.
//
// `--new-cluster-certificate PATH` instead writes a fresh self-signed cluster certificate (a PFX
// without password) and exits: how ./run.sh --silos N gets one for its run without another tool.
if (args is [NewClusterCertificate.Argument, var path])
{
    NewClusterCertificate.Write(path);
    return;
}

await SiloApplication.Build(args).RunAsync();
