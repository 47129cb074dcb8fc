namespace OrderFlow.Infra.Tests.Bicep;

/// <summary>What one run of the Bicep CLI printed, and how it ended.</summary>
public sealed record BicepRun(int ExitCode, string Output, string Errors)
{
    public override string ToString() => $"exit code {ExitCode}\nstdout:\n{Output}\nstderr:\n{Errors}";
}
