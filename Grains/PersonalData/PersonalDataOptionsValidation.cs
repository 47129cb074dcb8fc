using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Refuses, at start, key-encryption key settings that could not wrap or unwrap a key
/// (<see cref="KeyEncryptionKeyOptions.Problems"/>) and a key table name storage would refuse.
/// </summary>
public sealed class PersonalDataOptionsValidation : IValidateOptions<PersonalDataOptions>
{
    public ValidateOptionsResult Validate(string? name, PersonalDataOptions options)
    {
        var failures = new List<string>(options.KeyEncryptionKey.Problems());
        if (options.KeysTableName is { } keys && !TableLimits.IsValidTableName(keys))
        {
            failures.Add($"{PersonalDataOptions.Section}:{nameof(PersonalDataOptions.KeysTableName)} is '{keys}'; a table name is {TableLimits.TableNameRule}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
