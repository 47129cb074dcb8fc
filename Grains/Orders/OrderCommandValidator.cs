using System.Globalization;
using OrderFlow.Orders;
using OrderFlow.Grains.Validation;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Grains.Orders;

/// <summary>
/// The field rules of every order command (API.md "Validation"), independent of the order's
/// state. Errors are keyed by the JSON path of the field, camelCase, as the client sent it.
/// </summary>
public static class OrderCommandValidator
{
    public const int MaxTextLength = 200;
    public const int MaxItems = 100;
    public const int MaxQuantity = 10_000;
    public const decimal MaxUnitPrice = 1_000_000m;
    public const int MaxPostalCodeLength = 16;

    /// <summary>An order line's quantity, in words: the validator's message and the one for a body whose quantity is no whole number.</summary>
    public static string QuantityRule { get; } = string.Create(CultureInfo.InvariantCulture, $"must be a whole number from 1 to {MaxQuantity:N0}");

    /// <summary>Event times may run ahead of the server clock by this much (clock skew between clients and server).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(5);

    /// <summary>Azure Table Storage keeps no date before 1601-01-01 (UTC): earlier event times are refused here.</summary>
    public static readonly DateTimeOffset MinEventTime = new(1601, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Dictionary<string, string[]> Validate(OrderCommand command, DateTimeOffset now)
    {
        var errors = new FieldErrors();
        switch (command)
        {
            case PlaceOrder place:
                errors.Id("orderId", place.OrderId);
                errors.Id("customerId", place.CustomerId);
                if (string.IsNullOrEmpty(place.Currency))
                {
                    errors.Add("currency", "is required");
                }
                else if (!CurrencyCodes.IsValid(place.Currency))
                {
                    errors.Add("currency", CurrencyCodes.Rule);
                }

                ValidateItems(place.Items, errors);
                if (place.ShippingAddress is { } address)
                {
                    ValidateAddress(address, errors);
                }

                break;
            case PayOrder pay:
                errors.Id("paymentId", pay.PaymentId);
                errors.Money("amount", pay.Amount, allowZero: true);
                errors.Text("method", pay.Method);
                break;
            case ShipOrder ship:
                errors.Text("carrier", ship.Carrier);
                errors.Text("trackingNumber", ship.TrackingNumber);
                break;
            case DeliverOrder:
                break;
            case CancelOrder cancel:
                errors.Text("reason", cancel.Reason);
                break;
            case RefundOrder refund:
                errors.Id("refundId", refund.RefundId);
                errors.Money("amount", refund.Amount, allowZero: false);
                errors.Text("reason", refund.Reason);
                break;
            default:
                errors.Add("$", $"unknown command {command.GetType().Name}");
                break;
        }

        errors.EventTime("occurredAt", command.OccurredAt, now);
        return errors.ToDictionary();
    }

    /// <summary>
    /// The rule for free text (method, carrier, tracking number, reason): not blank, at most
    /// <see cref="MaxTextLength"/> characters, no control characters (Unicode category Cc) and no
    /// unpaired surrogates. Other Unicode (accents, bidi marks, emoji) is text like any other.
    /// </summary>
    /// <returns>Null when <paramref name="value"/> is acceptable, else what is wrong with it.</returns>
    public static string? CheckText(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "is required";
        }

        // Characters are Unicode scalar values: an emoji outside the Basic Multilingual Plane is one, though two UTF-16 units.
        if (value.Length > 2 * MaxTextLength)
        {
            return TooLong;
        }

        var characters = 0;
        for (var i = 0; i < value.Length; i++, characters++)
        {
            var c = value[i];
            if (char.IsControl(c))
            {
                return "must not contain control characters (such as line breaks or tabs)";
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "must be valid Unicode text (it contains an unpaired surrogate)";
            }
        }

        return characters > MaxTextLength ? TooLong : null;
    }

    private static readonly string TooLong = $"must be at most {MaxTextLength} characters";

    private static void ValidateItems(IReadOnlyList<OrderLineRequest>? items, FieldErrors errors)
    {
        if (items is null || items.Count == 0)
        {
            errors.Add("items", "must contain at least one item");
            return;
        }

        if (items.Count > MaxItems)
        {
            errors.Add("items", $"must contain at most {MaxItems} items");
            return;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"items[{i}]");
            if (items[i] is not { } item)
            {
                errors.Add(path, "must be an object");
                continue;
            }

            errors.Id(path + ".sku", item.Sku);
            if (item.Quantity is not { } quantity)
            {
                errors.Add(path + ".quantity", "is required");
            }
            else if (quantity is < 1 or > MaxQuantity)
            {
                errors.Add(path + ".quantity", QuantityRule);
            }

            if (item.UnitPrice is not { } price)
            {
                errors.Add(path + ".unitPrice", "is required");
            }
            else if (price < 0 || price > MaxUnitPrice)
            {
                errors.Add(path + ".unitPrice", string.Create(CultureInfo.InvariantCulture, $"must be between 0 and {MaxUnitPrice:N0}"));
            }
            else if (!Money.HasAtMostDecimals(price))
            {
                errors.Add(path + ".unitPrice", Money.DecimalsRule);
            }
        }
    }

    private static void ValidateAddress(ShippingAddressRequest address, FieldErrors errors)
    {
        const string path = "shippingAddress.";
        errors.Text(path + "recipient", address.Recipient);
        errors.Text(path + "line1", address.Line1);
        if (address.Line2 is "")
        {
            // Optional: "is required" would mislead; an empty second line is left out, not sent empty.
            errors.Add(path + "line2", "must not be empty when given (leave it out instead)");
        }
        else if (address.Line2 is not null)
        {
            errors.Text(path + "line2", address.Line2);
        }

        errors.Text(path + "city", address.City);
        if (string.IsNullOrEmpty(address.PostalCode))
        {
            errors.Add(path + "postalCode", "is required");
        }
        else if (address.PostalCode.Length > MaxPostalCodeLength
            || !address.PostalCode.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '-')
            || !address.PostalCode.Any(char.IsAsciiLetterOrDigit))
        {
            errors.Add(path + "postalCode", $"must be 1–{MaxPostalCodeLength} characters of letters, digits, spaces and '-', with at least one letter or digit");
        }

        errors.Country(path + "country", address.Country);
    }
}
