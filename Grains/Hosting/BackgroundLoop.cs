namespace OrderFlow.Grains.Hosting;

/// <summary>
/// A loop a silo runs in the background while it is active (a lifecycle participant's work):
/// started once, and on stop cancelled and awaited within the silo's stop deadline, its own
/// failure or cancellation swallowed (the loop logs what matters itself).
/// </summary>
internal sealed class BackgroundLoop
{
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    /// <summary>Cancelled when the silo stops.</summary>
    public CancellationToken Stopping => stopping.Token;

    public bool IsStopping => stopping.IsCancellationRequested;

    public void Start(Func<Task> run) => loop = Task.Run(run, CancellationToken.None);

    /// <summary>Cancels the loop and waits for it to end (or for <paramref name="cancellationToken"/>); false when it was never started.</summary>
    public async Task<bool> StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (loop is null)
        {
            return false;
        }

        await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return true;
    }
}
