using System.Collections.Frozen;

namespace Emporium.Features.Catalog;

/// <summary>
/// Amounts are decimals in the currency's major unit (19.99 USD), never floating point (decision 0012). Both databases keep
/// them exact at <see cref="StoredDecimals"/> places: PostgreSQL as numeric(18,4), SQLite as an integer count of
/// ten-thousandths, so sums, comparisons and sorts in SQL are exact on both. What an amount may carry is the currency's
/// own scale (ISO 4217 minor units: USD 2, JPY 0, KWD 3).
/// </summary>
public static class Money
{
    /// <summary>Decimal places every stored amount has room for: the most any active ISO 4217 currency uses (CLF, UYW).</summary>
    public const int StoredDecimals = 4;

    /// <summary>The largest amount: 10^14 - 1, so ten-thousandths fit a 64-bit integer with room to add order lines.</summary>
    public const decimal Max = 99_999_999_999_999m;

    public const string DefaultCurrency = "USD";

    /// <summary>
    /// A filter bound with more places than are stored, as the stored amount that selects the same prices: a lower bound
    /// rounded up (<see cref="MidpointRounding.ToPositiveInfinity"/>), an upper bound down.
    /// </summary>
    public static decimal Inward(decimal bound, MidpointRounding direction) => Math.Round(bound, StoredDecimals, direction);

    /// <summary>Decimal places an amount in <paramref name="currency"/> may have, or null when it is not an active ISO 4217 code.</summary>
    public static int? DecimalsOf(string? currency) =>
        currency is not null && Currencies.TryGetValue(currency, out var decimals) ? decimals : null;

    /// <summary>
    /// Why <paramref name="amount"/> is not a valid amount in <paramref name="currency"/>, or null when it is. Without a
    /// known currency only the stored scale (<see cref="StoredDecimals"/>) is checked.
    /// </summary>
    public static string? Problem(decimal amount, string? currency, string field)
    {
        if (amount < 0)
        {
            return $"{field} must be 0 or more.";
        }

        if (amount > Max)
        {
            return $"{field} must be at most {Max.ToString("N0", CultureInfo.InvariantCulture)}.";
        }

        var decimals = DecimalsOf(currency) ?? StoredDecimals;
        if (decimal.Round(amount, decimals) != amount)
        {
            if (DecimalsOf(currency) is null)
            {
                return $"{field} may have at most {StoredDecimals} decimal places.";
            }

            return decimals == 0
                ? $"{field} must be a whole number in {currency} (it has no minor unit)."
                : $"{field} may have at most {decimals} decimal place{(decimals == 1 ? "" : "s")} in {currency}.";
        }

        return null;
    }

    /// <summary>Why <paramref name="currency"/> is not acceptable, or null when it is an active ISO 4217 code.</summary>
    public static string? CurrencyProblem(string currency) =>
        Currencies.ContainsKey(currency)
            ? null
            : $"currency must be an active ISO 4217 code in upper case, such as USD, EUR or JPY ('{Shorten(currency)}' is not).";

    /// <summary>
    /// The amount with exactly the currency's decimal places (19.9 USD reads 19.90, 1500.0000 JPY reads 1500), so both
    /// databases answer the same text. An amount stored with more places than its currency allows keeps them.
    /// </summary>
    public static decimal Normalize(decimal amount, string currency)
    {
        var decimals = DecimalsOf(currency) ?? StoredDecimals;
        var rounded = decimal.Round(amount, decimals);
        if (rounded != amount)
        {
            return amount / 1.0000000000000000000000000000m; // strips trailing zeros, keeps every significant place
        }

        // decimal addition keeps the larger scale: 19.9 + 0.00 = 19.90.
        return decimal.Round(rounded, decimals) + Zeros[decimals];
    }

    /// <summary>The amount as the CSV export writes it (invariant, the currency's places, no thousands separator).</summary>
    public static string Format(decimal amount, string currency) => Normalize(amount, currency).ToString(CultureInfo.InvariantCulture);

    /// <summary>SQLite's stored form: the amount in ten-thousandths.</summary>
    public static long ToStoredUnits(decimal amount) => decimal.ToInt64(decimal.Round(amount * 10_000m, 0));

    public static decimal FromStoredUnits(long units) => units / 10_000m;

    private static string Shorten(string value) => value.Length > 16 ? value[..16] + "…" : value;

    private static readonly decimal[] Zeros = [0m, 0.0m, 0.00m, 0.000m, 0.0000m];

    /// <summary>
    /// Active ISO 4217 codes and their minor units (ISO 4217 list one, 2025). Funds codes (BOV, CHE, CHW, COU, MXV, USN,
    /// UYI, UYW, CLF) are included; precious metals, XDR, XSU, XUA and testing codes are not: they have no minor unit.
    /// </summary>
    private static readonly FrozenDictionary<string, int> Currencies = BuildCurrencies();

    private static FrozenDictionary<string, int> BuildCurrencies()
    {
        const string twoDecimals =
            "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW " +
            "CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR " +
            "ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV " +
            "MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD " +
            "SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG";
        const string noDecimals = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
        const string threeDecimals = "BHD IQD JOD KWD LYD OMR TND";
        const string fourDecimals = "CLF UYW";
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (codes, decimals) in new[] { (twoDecimals, 2), (noDecimals, 0), (threeDecimals, 3), (fourDecimals, 4) })
        {
            foreach (var code in codes.Split(' '))
            {
                table.Add(code, decimals);
            }
        }

        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
