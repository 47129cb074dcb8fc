using System.Globalization;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Domain.Tests;

public sealed class OrderCommandValidatorTests
{
    private static readonly DateTimeOffset Now = OrderBuilder.Start;

    public static TheoryData<string, PlaceOrder> InvalidPlacements()
    {
        var valid = OrderBuilder.Place();
        var line = new OrderLineRequest("sku-1", 1, 1m);
        return new()
        {
            { "orderId", valid with { OrderId = "has space" } },
            { "orderId", valid with { OrderId = new string('a', 65) } },
            { "customerId", valid with { CustomerId = null } },
            { "customerId", valid with { CustomerId = "a/b" } },
            { "currency", valid with { Currency = "eur" } },
            { "currency", valid with { Currency = "EURO" } },
            { "currency", valid with { Currency = "ABC" } },
            { "currency", valid with { Currency = null } },
            { "items", valid with { Items = [] } },
            { "items", valid with { Items = null } },
            { "items", valid with { Items = Enumerable.Repeat(line, 101).ToList() } },
            { "items[0].sku", valid with { Items = [line with { Sku = "" }] } },
            { "items[0].quantity", valid with { Items = [line with { Quantity = 0 }] } },
            { "items[0].quantity", valid with { Items = [line with { Quantity = 10_001 }] } },
            { "items[0].quantity", valid with { Items = [line with { Quantity = null }] } },
            { "items[1].unitPrice", valid with { Items = [line, line with { UnitPrice = -0.01m }] } },
            { "items[0].unitPrice", valid with { Items = [line with { UnitPrice = 1_000_000.01m }] } },
            { "items[0].unitPrice", valid with { Items = [line with { UnitPrice = 1.001m }] } },
            { "items[0].unitPrice", valid with { Items = [line with { UnitPrice = null }] } },
            { "occurredAt", valid with { OccurredAt = Now.AddSeconds(5.001) } },
            { "shippingAddress.recipient", valid with { ShippingAddress = Address with { Recipient = null } } },
            { "shippingAddress.recipient", valid with { ShippingAddress = Address with { Recipient = new string('r', 201) } } },
            { "shippingAddress.line1", valid with { ShippingAddress = Address with { Line1 = " " } } },
            { "shippingAddress.line2", valid with { ShippingAddress = Address with { Line2 = "" } } },
            { "shippingAddress.line2", valid with { ShippingAddress = Address with { Line2 = "a\nb" } } },
            { "shippingAddress.city", valid with { ShippingAddress = Address with { City = null } } },
            { "shippingAddress.postalCode", valid with { ShippingAddress = Address with { PostalCode = null } } },
            { "shippingAddress.postalCode", valid with { ShippingAddress = Address with { PostalCode = new string('1', 17) } } },
            { "shippingAddress.postalCode", valid with { ShippingAddress = Address with { PostalCode = "10/115" } } },
            { "shippingAddress.postalCode", valid with { ShippingAddress = Address with { PostalCode = " - " } } },
            { "shippingAddress.country", valid with { ShippingAddress = Address with { Country = null } } },
            { "shippingAddress.country", valid with { ShippingAddress = Address with { Country = "de" } } },
            { "shippingAddress.country", valid with { ShippingAddress = Address with { Country = "DEU" } } },
            { "shippingAddress.country", valid with { ShippingAddress = Address with { Country = "UK" } } },
            { "shippingAddress.country", valid with { ShippingAddress = Address with { Country = "XK" } } },
        };
    }

    private static ShippingAddressRequest Address => new("Ada Lovelace", "Unter den Linden 1", null, "Berlin", "10117", "DE");

    [Fact]
    public void A_shipping_address_at_its_limits_is_valid()
    {
        var text = new string('t', OrderCommandValidator.MaxTextLength);
        var address = new ShippingAddressRequest(text, text, text, text, "SW1A 1AA-" + new string('9', 7), "GB");

        Assert.Empty(OrderCommandValidator.Validate(OrderBuilder.Place() with { ShippingAddress = address }, Now));
        Assert.Empty(OrderCommandValidator.Validate(OrderBuilder.Place() with { ShippingAddress = Address }, Now));
    }

    [Fact]
    public void An_empty_second_address_line_is_refused_without_calling_it_required()
    {
        var errors = OrderCommandValidator.Validate(OrderBuilder.Place() with { ShippingAddress = Address with { Line2 = "" } }, Now);

        var message = Assert.Single(errors["shippingAddress.line2"]);
        Assert.DoesNotContain("required", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_officially_assigned_country_code_and_no_other_is_accepted()
    {
        Assert.Equal(249, CountryCodes.Count);
        Assert.All(new[] { "DE", "FR", "GB", "US", "AX", "SS", "ZW" }, code => Assert.True(CountryCodes.IsValid(code), code));
        Assert.All(new[] { "UK", "EU", "XK", "ZZ", "de", "D", "DEU", "", null }, code => Assert.False(CountryCodes.IsValid(code), code));
    }

    /// <summary>
    /// Found by an audit: any three upper-case letters were a currency, and statistics keep money per
    /// currency in one entity per month and shard: thousands of made-up codes overflowed it, and the
    /// month's figures stopped. Only ISO 4217 codes are accepted.
    /// </summary>
    [Fact]
    public void Every_ISO_4217_currency_code_and_no_other_is_accepted()
    {
        Assert.Equal(187, CurrencyCodes.Count);
        Assert.All(new[] { "EUR", "USD", "JPY", "GBP", "CHF", "XAU", "XTS", "HRK", "ZWG", "XCG", "XAD" }, code => Assert.True(CurrencyCodes.IsValid(code), code));
        Assert.All(new[] { "ABC", "AAA", "ZZZ", "EU", "eur", "EURO", "DEM", "", null }, code => Assert.False(CurrencyCodes.IsValid(code), code));
    }

    [Theory]
    [MemberData(nameof(InvalidPlacements))]
    public void Invalid_placements_name_the_field(string field, PlaceOrder command)
    {
        var errors = OrderCommandValidator.Validate(command, Now);

        Assert.Equal([field], errors.Keys);
    }

    /// <summary>
    /// A quantity out of range is told the same rule as one sent as no whole number (JsonBodyErrors),
    /// and the numbers in refusals do not follow the server's culture (they read "1.000.000" and "1,5" on a German host).
    /// </summary>
    [Fact]
    public void Range_messages_state_the_rule_in_invariant_numbers_whatever_the_culture()
    {
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var quantity = OrderCommandValidator.Validate(OrderBuilder.Place() with { Items = [new OrderLineRequest("sku-1", 0, 1m)] }, Now);
            var price = OrderCommandValidator.Validate(OrderBuilder.Place() with { Items = [new OrderLineRequest("sku-1", 1, 1_000_000.01m)] }, Now);
            var tooLarge = new EventTooLargeException("order-1", 1_048_577, 1_048_576);
            var order = new OrderBuilder();
            order.Send(OrderBuilder.Place(unitPrice: 10.25m));
            var payment = order.Send(OrderFlow.Testing.Orders.TestCommands.Pay("pay-1", 1.5m));

            Assert.Equal(["must be a whole number from 1 to 10,000"], quantity["items[0].quantity"]);
            Assert.Equal(OrderCommandValidator.QuantityRule, quantity["items[0].quantity"][0]);
            Assert.Equal(["must be between 0 and 1,000,000"], price["items[0].unitPrice"]);
            Assert.Contains("needs 1,048,577 bytes", tooLarge.Message, StringComparison.Ordinal);
            Assert.Equal("The payment of 1.5 must equal the order total of 20.50 EUR.", payment.Error?.Detail);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Limits_themselves_are_valid()
    {
        var line = new OrderLineRequest(new string('s', 64), 10_000, 1_000_000m);
        var command = new PlaceOrder("a.b-c_D9", "c", "EUR", Enumerable.Repeat(line, 100).ToList(), Now.AddSeconds(5));

        Assert.Empty(OrderCommandValidator.Validate(command, Now));
    }

    public static TheoryData<string, OrderCommand> InvalidOtherCommands() => new()
    {
        { "paymentId", new PayOrder(null, 1m, "card") },
        { "amount", new PayOrder("p", -1m, "card") },
        { "amount", new PayOrder("p", 1.234m, "card") },
        { "method", new PayOrder("p", 1m, new string('m', 201)) },
        { "method", new PayOrder("p", 1m, "  ") },
        { "carrier", new ShipOrder(null, "T") },
        { "trackingNumber", new ShipOrder("DHL", "") },
        { "reason", new CancelOrder(null) },
        { "refundId", new RefundOrder("r?", 1m, "x") },
        { "amount", new RefundOrder("r", 0m, "x") },
        { "amount", new RefundOrder("r", null, "x") },
        { "reason", new RefundOrder("r", 1m, new string('x', 201)) },
    };

    [Theory]
    [MemberData(nameof(InvalidOtherCommands))]
    public void Invalid_commands_name_the_field(string field, OrderCommand command)
    {
        Assert.Equal([field], OrderCommandValidator.Validate(command, Now).Keys);
    }

    [Fact]
    public void Text_of_exactly_200_characters_is_valid()
    {
        Assert.Empty(OrderCommandValidator.Validate(new CancelOrder(new string('x', 200)), Now));
    }
}
