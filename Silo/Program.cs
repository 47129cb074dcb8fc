using Microsoft.Extensions.Hosting;
using OrderFlow.Silo;

// A standalone silo, configured by appsettings.json and environment variables (Orleans__Clustering,
// Orleans__SiloPort, ConnectionStrings__Tables…; README "Cluster mode"). It logs where it listens
// once active, and Orleans' "Silo started" when ready.
await SiloApplication.Build(args).RunAsync();
