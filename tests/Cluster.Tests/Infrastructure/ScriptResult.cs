namespace OrderFlow.Cluster.Tests.Infrastructure;

/// <summary>How a script ended: its exit status and its output (standard output, then standard error).</summary>
public sealed record ScriptResult(int ExitCode, string Output);
