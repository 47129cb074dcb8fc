using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Queries;

/// <summary>
/// The product sales of every month and shard added up, kept between queries (by
/// <see cref="AllTimeProductsGrain"/>): a month that has not changed since it was read answers
/// nothing (<see cref="IMonthStatsGrain.GetProductsIfChanged"/>), and a changed month's previous
/// answer is taken out of the sums as its new one goes in. So a query adds up what changed since the
/// last one (the current month, as a rule), not every month's every product, which grows with the
/// history. The figures are those of a sum made afresh.
/// </summary>
/// <remarks>
/// Revenue is a decimal, whose additions here are exact; but a sum keeps the most decimal places of
/// what it added (10.5 + 1.25 − 1.25 is 10.50), while a sum made afresh has the most places of what
/// it adds. So each sum counts the months' answers that have its places, and once none has, it is
/// added up afresh from the months held (a price written "10" after "9.99" costs nothing more).
/// </remarks>
internal sealed class AllTimeProducts
{
    /// <summary>The months' answers held, by month grain key.</summary>
    private readonly Dictionary<string, MonthProducts> months = new(StringComparer.Ordinal);

    private readonly Dictionary<string, Sum> listed = new(StringComparer.Ordinal);
    private Sum unlisted = new();

    /// <summary>The version of the month's answer held, null if none is.</summary>
    public MonthProductsVersion? VersionOf(string month) => months.TryGetValue(month, out var held) ? held.Version : null;

    /// <summary>
    /// Takes the months' answers (null: unchanged since the version held) and drops the months held
    /// that <paramref name="answers"/> does not name. Should it fail half-way, it holds nothing.
    /// </summary>
    public void Update(IReadOnlyCollection<(string Month, MonthProducts? Answer)> answers)
    {
        try
        {
            var named = answers.Select(answer => answer.Month).ToHashSet(StringComparer.Ordinal);
            foreach (var gone in months.Keys.Where(month => !named.Contains(month)).ToList())
            {
                Replace(gone, null);
            }

            foreach (var (month, answer) in answers)
            {
                if (answer is not null)
                {
                    Replace(month, answer);
                }
            }

            // One figure of every month held: added up afresh, which costs little.
            unlisted = Sum.Of(months.Values.Select(held => held.Unlisted));
        }
        catch
        {
            // A sum overflowed (or worse): what is held is no longer the months' sum.
            months.Clear();
            listed.Clear();
            unlisted = new Sum();
            throw;
        }
    }

    /// <summary>The best-selling <paramref name="top"/> by revenue (or quantity), and the unlisted sales.</summary>
    public ProductsReport Top(int top, bool byQuantity)
    {
        var ordered = byQuantity
            ? listed.OrderByDescending(p => p.Value.Quantity).ThenByDescending(p => p.Value.Revenue)
            : listed.OrderByDescending(p => p.Value.Revenue).ThenByDescending(p => p.Value.Quantity);
        return new ProductsReport(
            [.. ordered.ThenBy(p => p.Key, StringComparer.Ordinal).Take(top).Select(p => new ProductSales(p.Key, p.Value.Quantity, p.Value.Revenue))],
            unlisted.Months == 0 ? null : new UnlistedSales(unlisted.Quantity, unlisted.Revenue));
    }

    private void Replace(string month, MonthProducts? answer)
    {
        var before = months.GetValueOrDefault(month);
        if (answer is null)
        {
            months.Remove(month);
        }
        else
        {
            months[month] = answer;
        }

        var afresh = new List<string>();
        foreach (var (sku, sales) in before?.Listed ?? [])
        {
            if (!listed[sku].Take(sales))
            {
                afresh.Add(sku);
            }
        }

        foreach (var (sku, sales) in answer?.Listed ?? [])
        {
            if (!listed.TryGetValue(sku, out var sum))
            {
                listed[sku] = sum = new Sum();
            }

            sum.Add(sales);
        }

        foreach (var sku in afresh)
        {
            listed[sku] = Sum.Of(months.Values.Select(held => held.Listed.GetValueOrDefault(sku)));
        }

        foreach (var (sku, _) in before?.Listed ?? [])
        {
            if (listed[sku].Months == 0)
            {
                listed.Remove(sku);
            }
        }
    }

    /// <summary>A SKU's (or the unlisted) sales over the months that list it, how many do, and how many of those have its decimal places.</summary>
    private sealed class Sum
    {
        private int withItsPlaces;

        public long Quantity { get; private set; }

        public decimal Revenue { get; private set; }

        public int Months { get; private set; }

        public static Sum Of(IEnumerable<ProductTotals?> sales)
        {
            var sum = new Sum();
            foreach (var totals in sales)
            {
                if (totals is not null)
                {
                    sum.Add(totals);
                }
            }

            return sum;
        }

        public void Add(ProductTotals sales)
        {
            var places = Revenue.Scale;
            Quantity += sales.Quantity;
            Revenue += sales.Revenue;
            Months++;
            withItsPlaces = sales.Revenue.Scale > places ? 1 : withItsPlaces + (sales.Revenue.Scale == places ? 1 : 0);
        }

        /// <summary>Takes out a month's sales; false when the sum is to be made afresh: months are left, none with its decimal places.</summary>
        public bool Take(ProductTotals sales)
        {
            if (--Months == 0)
            {
                (Quantity, Revenue, withItsPlaces) = (0, 0m, 0);
                return true;
            }

            Quantity -= sales.Quantity;
            Revenue -= sales.Revenue;
            if (sales.Revenue.Scale == Revenue.Scale)
            {
                withItsPlaces--;
            }

            return withItsPlaces > 0;
        }
    }
}
