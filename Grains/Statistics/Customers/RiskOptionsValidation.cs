using Microsoft.Extensions.Options;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>
/// Refuses, at start, risk thresholds that would make a rule meaningless: a silo that started
/// with them would raise (or never raise) alerts that a corrected rebuild later withdraws.
/// </summary>
public sealed class RiskOptionsValidation : IValidateOptions<StatisticsOptions>
{
    public ValidateOptionsResult Validate(string? name, StatisticsOptions options)
    {
        var risk = options.Risk;
        var failures = new List<string>();
        if (risk.NewAccountLargeOrderAmount < 0)
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.NewAccountLargeOrderAmount)} is {risk.NewAccountLargeOrderAmount}; it must be 0 or more (an order's total over it is large).");
        }

        if (risk.NewAccountWindow <= TimeSpan.Zero)
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.NewAccountWindow)} is {risk.NewAccountWindow}; it must be positive (for example 1.00:00:00 for a day).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
