using OrderFlow.Api;

await ApiApplication.Build(args).RunAsync();
