using Microsoft.Extensions.Options;

namespace OrderFlow.Grains.PersonalData;

/// <summary>Refuses, at start, key-encryption key settings that could not wrap or unwrap a key (<see cref="KeyEncryptionKeyOptions.Problems"/>).</summary>
public sealed class KeyEncryptionKeyOptionsValidation : IValidateOptions<PersonalDataOptions>
{
    public ValidateOptionsResult Validate(string? name, PersonalDataOptions options) =>
        options.KeyEncryptionKey.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
