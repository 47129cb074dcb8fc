namespace OrderFlow.Api.Auth;

/// <summary>
/// Configuration section <c>RateLimiting:Commands</c>: how many commands each caller may send, as a
/// token bucket: <c>Burst</c> at once, refilled at <c>PermitsPerSecond</c>. The defaults are above what
/// one API instance serves, so they only stop a runaway client; set them to your capacity.
/// </summary>
public sealed class CommandRateLimitOptions
{
    public const string Section = "RateLimiting:Commands";

    public double PermitsPerSecond { get; set; } = 500;

    public int Burst { get; set; } = 1000;
}
