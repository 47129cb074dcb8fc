global using OrderFlow.Testing.Logging;
global using Xunit;
