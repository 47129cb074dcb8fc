using Microsoft.Extensions.Logging;
using OrderFlow.Grains.Hosting;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Reads the key-encryption key once the silo is active, so that a mistyped secret name, a missing
/// role or a malformed secret is said at start (critical) rather than only at the first command
/// that carries personal data (500 personal-data-key-unreadable). A vault that does not answer is
/// a warning: the first such command tries again. It neither delays nor stops the start: a vault
/// outage must not keep silos from serving what needs no key. A silo that stops meanwhile cancels
/// the read and waits for it, so nothing of the check outlives the silo.
/// </summary>
public sealed class KeyEncryptionKeyStartCheck(SubjectKeyWrapping keys, ILogger<KeyEncryptionKeyStartCheck> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long the check waits for the key.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly BackgroundLoop check = new();

    private readonly TaskCompletionSource checkedOnce = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the check started at the silo's start has ended, whatever it found (for tests).</summary>
    public Task Checked => checkedOnce.Task;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(KeyEncryptionKeyStartCheck),
            ServiceLifecycleStage.Active,
            _ =>
            {
                check.Start(CheckAsync);
                return Task.CompletedTask;
            },
            check.StopAsync);

    private async Task CheckAsync()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(check.Stopping);
        deadline.CancelAfter(Deadline);
        try
        {
            var version = await keys.ReadCurrentKeyEncryptionKeyVersionAsync(deadline.Token);
            logger.LogInformation("The key-encryption key ({Source}) answers: its current version is '{Version}'.", keys.KeyEncryptionKeySource, version);
        }
        catch (PersonalDataKeyUnreadableException unreadable)
        {
            logger.LogCritical(unreadable,
                "The key-encryption key cannot be used: {Reason} Until this is fixed, every command that carries personal data fails (500 personal-data-key-unreadable).",
                unreadable.Message);
        }
        catch (Exception) when (check.IsStopping)
        {
            // The silo stopped before the vault answered: nothing was learnt.
        }
        catch (Exception outage)
        {
            logger.LogWarning(outage, "The key-encryption key ({Source}) could not be read at start; the first command that carries personal data tries again.", keys.KeyEncryptionKeySource);
        }
        finally
        {
            checkedOnce.TrySetResult();
        }
    }
}
