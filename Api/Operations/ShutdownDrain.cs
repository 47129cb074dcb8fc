using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrderFlow.Api.Operations;

/// <summary>
/// The first step of a stop (SIGTERM): for <c>Api:ShutdownDrain</c> the API goes on serving while
/// <c>/health/ready</c> answers 503, and only then does Kestrel stop taking connections
/// (<see cref="GracefulShutdown"/>). A platform takes a stopping replica out of its load balancer
/// by itself, but a little late (Container Apps' ingress, as Kubernetes' endpoints, learns of it
/// asynchronously, and offers no pre-stop hook): requests routed to it meanwhile would meet a
/// closed port. The 503 tells any other balancer or probe that asks; one that goes by readiness
/// alone needs a drain of its probes' period times their failure threshold. Off (zero) by
/// default, so that a local stop is immediate; the Azure deployment sets it.
/// </summary>
public sealed class ShutdownDrain(TimeSpan drain, TimeProvider time, ILogger<ShutdownDrain> logger) : IHostedLifecycleService, IHealthCheck
{
    public const string Setting = "Api:ShutdownDrain";

    /// <summary>The longest drain accepted: a platform's grace period must hold it and the requests' own drain.</summary>
    public static readonly TimeSpan MaxDrain = TimeSpan.FromMinutes(2);

    private volatile bool draining;

    /// <summary>Started by the first stop: the host runs StoppingAsync at each of its stops, and a later or concurrent one waits for the same drain.</summary>
    private readonly Lazy<Task> drained = new(() =>
    {
        logger.LogInformation("Stopping: serving {Drain} more while the load balancer takes this replica out ({Setting}).", drain, Setting);
        return Task.Delay(drain, time);
    });

    /// <summary><see cref="Setting"/>, refused at start when negative or above <see cref="MaxDrain"/>.</summary>
    public static TimeSpan From(IConfiguration configuration)
    {
        var drain = configuration.GetValue(Setting, TimeSpan.Zero);
        if (drain < TimeSpan.Zero || drain > MaxDrain)
        {
            throw new InvalidOperationException($"{Setting} is {drain}; it must be from 00:00:00 (off) to {MaxDrain:c}.");
        }

        return drain;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(draining
            ? HealthCheckResult.Unhealthy("The API is stopping: it serves the requests the load balancer still sends it, and takes none once it stops.")
            : HealthCheckResult.Healthy("Not stopping."));

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        draining = true;
        if (drain <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await drained.Value.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The stop's deadline cuts the drain short: the stop goes on.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
