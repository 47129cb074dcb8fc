using Microsoft.Extensions.Options;

namespace OrderFlow.Grains.Projections.Parking;

/// <summary>Refuses, at start, retry settings that would retry parked records without pause or park what never failed.</summary>
public sealed class ParkingOptionsValidation : IValidateOptions<ParkingOptions>
{
    public ValidateOptionsResult Validate(string? name, ParkingOptions options)
    {
        var failures = new List<string>();
        if (options.FirstRetry <= TimeSpan.Zero)
        {
            failures.Add($"{ParkingOptions.Section}:{nameof(ParkingOptions.FirstRetry)} is {options.FirstRetry}; it must be positive (for example 00:01:00).");
        }

        // Below FirstRetry is fine: every wait is capped at it (and a failed flush's back-off uses it alone).
        if (options.MaxRetry <= TimeSpan.Zero)
        {
            failures.Add($"{ParkingOptions.Section}:{nameof(ParkingOptions.MaxRetry)} is {options.MaxRetry}; it must be positive (for example 00:30:00).");
        }

        if (options.FlushFailuresBeforeParking < 1)
        {
            failures.Add($"{ParkingOptions.Section}:{nameof(ParkingOptions.FlushFailuresBeforeParking)} is {options.FlushFailuresBeforeParking}; it must be 1 or more (for example 3).");
        }

        if (options.DeliveryFailuresBeforeParking < 1)
        {
            failures.Add($"{ParkingOptions.Section}:{nameof(ParkingOptions.DeliveryFailuresBeforeParking)} is {options.DeliveryFailuresBeforeParking}; it must be 1 or more (for example 3).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
