using System.Collections.Frozen;

namespace OrderFlow.Orders;

/// <summary>
/// The rule for currencies: an ISO 4217 alphabetic code, upper case: the codes of the standard's
/// current list (funds and the X codes included) and those withdrawn since 2018, which orders
/// dated before their withdrawal may carry. A list rather than any three letters: statistics keep
/// money per currency, and a month of one shard holds them in one table entity (README "Capacity"),
/// which 17,576 made-up codes would overflow.
/// </summary>
public static class CurrencyCodes
{
    public const string Rule = "must be an ISO 4217 currency code in upper case (for example EUR, USD or JPY)";

    private static readonly FrozenSet<string> Known = (
        "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
        + "CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP "
        + "GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY "
        + "KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK "
        + "MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF "
        + "SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS "
        + "UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF "
        + "XPT XSU XTS XUA XXX YER ZAR ZMW ZWG "

        // Withdrawn since 2018.
        + "ANG CUC HRK MRO SLL STD VEF ZWL")
        .Split(' ')
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>How many codes are accepted (187): a test pins it.</summary>
    public static int Count => Known.Count;

    public static bool IsValid(string? code) => code is { Length: 3 } && Known.Contains(code);
}
