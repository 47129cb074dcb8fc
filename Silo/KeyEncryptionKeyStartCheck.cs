using Microsoft.Extensions.Logging;
using OrderFlow.Grains.PersonalData;
using OrderFlow.PersonalData;

namespace OrderFlow.Silo;

/// <summary>
/// Reads the key-encryption key once the silo is active, so that a mistyped secret name, a missing
/// role or a malformed secret is said at start (critical) rather than only at the first command
/// that carries personal data (500 personal-data-key-unreadable). A vault that does not answer is
/// a warning: the first such command tries again. It neither delays nor stops the start: a vault
/// outage must not keep silos from serving what needs no key.
/// </summary>
public sealed class KeyEncryptionKeyStartCheck(SubjectKeyWrapping keys, ILogger<KeyEncryptionKeyStartCheck> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long the check waits for the key.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private Task checking = Task.CompletedTask;

    /// <summary>The check started when the silo became active (for tests).</summary>
    public Task Checked => checking;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(KeyEncryptionKeyStartCheck), ServiceLifecycleStage.Active, _ =>
        {
            checking = CheckAsync();
            return Task.CompletedTask;
        });

    private async Task CheckAsync()
    {
        using var deadline = new CancellationTokenSource(Deadline);
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
        catch (Exception outage)
        {
            logger.LogWarning(outage, "The key-encryption key ({Source}) could not be read at start; the first command that carries personal data tries again.", keys.KeyEncryptionKeySource);
        }
    }
}
