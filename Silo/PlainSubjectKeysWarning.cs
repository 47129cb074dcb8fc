using Microsoft.Extensions.Logging;

namespace OrderFlow.Silo;

/// <summary>
/// Warns once at start when a deployment on Azure Storage (the keys' storage reached with a managed
/// identity: <see cref="OrderFlowSiloExtensions.KeysInAzureStorage"/>) stores the subjects' keys
/// in plain, without a key-encryption key: anyone who can read the key table can then read every
/// subject's personal data.
/// </summary>
public sealed class PlainSubjectKeysWarning(ILogger<PlainSubjectKeysWarning> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PlainSubjectKeysWarning), ServiceLifecycleStage.Active, _ =>
        {
            logger.LogWarning(
                "The data subjects' keys are stored in plain in an Azure Storage key table: no key-encryption key is configured (PersonalData:KeyEncryptionKey:VaultUri and SecretName). README \"Personal data\".");
            return Task.CompletedTask;
        });
}
