using Microsoft.Extensions.Hosting;
using OrderFlow.Silo;

// A standalone silo: the same configuration as the API's co-hosted one, without HTTP.
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo => silo
    .UseOrderFlowClustering(builder.Configuration)
    .AddOrderFlow(builder.Configuration));

await builder.Build().RunAsync();
