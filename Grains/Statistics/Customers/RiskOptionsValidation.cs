using Microsoft.Extensions.Options;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>
/// Refuses, at start, risk thresholds that would make a rule meaningless: a silo that started
/// with them would raise (or never raise) alerts that a corrected rebuild later withdraws, and a
/// velocity window of zero would fail every evaluation of a customer.
/// </summary>
public sealed class RiskOptionsValidation : IValidateOptions<StatisticsOptions>
{
    public ValidateOptionsResult Validate(string? name, StatisticsOptions options)
    {
        var risk = options.Risk;
        var failures = new List<string>();
        if (risk.VelocityMaxOrders < 1)
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.VelocityMaxOrders)} is {risk.VelocityMaxOrders}; it must be 1 or more (more orders than it within the window raise an alert; 0 would flag every order).");
        }

        if (risk.VelocityWindow <= TimeSpan.Zero)
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.VelocityWindow)} is {risk.VelocityWindow}; it must be positive (for example 00:10:00 for ten minutes).");
        }

        if (risk.LargeOrderFactor < 1)
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.LargeOrderFactor)} is {risk.LargeOrderFactor}; it must be 1 or more (an order's total over this multiple of the customer's average is large).");
        }

        if (risk.LargeOrderMinHistory < 1)
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.LargeOrderMinHistory)} is {risk.LargeOrderMinHistory}; it must be 1 or more (the average compared with is of earlier orders).");
        }

        if (!(risk.CancelRefundRatio is > 0 and <= 1))
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.CancelRefundRatio)} is {risk.CancelRefundRatio}; it must be over 0 and at most 1 (the share of orders that ended cancelled or refunded).");
        }

        if (risk.CancelRefundMinOrders < 1)
        {
            failures.Add($"{StatisticsOptions.Section}:Risk:{nameof(RiskOptions.CancelRefundMinOrders)} is {risk.CancelRefundMinOrders}; it must be 1 or more (a ratio of no orders is none).");
        }

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
