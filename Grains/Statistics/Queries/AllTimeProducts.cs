using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Queries;

/// <summary>
/// The product sales of every month and shard added up, kept between queries by a query
/// activation (<see cref="StatisticsGrain.TopProducts"/>): a month that has not changed since it was
/// read answers nothing (<see cref="IMonthStatsGrain.GetProductsIfChanged"/>), and a changed
/// month's previous answer is taken out of the sum as its new one goes in. So a query costs what
/// changed since the last one (the current month, as a rule), not every month's every product,
/// which grows with the history. The figures are those of a sum made afresh.
/// </summary>
/// <remarks>
/// Revenue is a decimal, whose additions here are exact; but a sum keeps the most decimal places
/// of what it added (10.5 + 1.25 − 1.25 is 10.50), so a SKU whose sum has more places than its new
/// month's answer, or that a month no longer lists, is added up afresh from the months held.
/// </remarks>
internal sealed class AllTimeProducts
{
    private readonly Dictionary<(DateTimeOffset Month, int Shard), MonthProducts> months = [];
    private readonly Dictionary<string, Sum> listed = new(StringComparer.Ordinal);
    private Sum unlisted = new();

    /// <summary>The generation whose months are held; null before the first update.</summary>
    public int? Generation { get; private set; }

    /// <summary>The version of the month's answer held, null if none is.</summary>
    public MonthProductsVersion? VersionOf((DateTimeOffset Month, int Shard) month) => months.TryGetValue(month, out var held) ? held.Version : null;

    /// <summary>Forgets every month unless they are of <paramref name="generation"/>.</summary>
    public void Serve(int generation)
    {
        if (Generation != generation)
        {
            months.Clear();
            listed.Clear();
            unlisted = new Sum();
            Generation = generation;
        }
    }

    /// <summary>
    /// Takes the months' answers (null: unchanged since the version held), and drops the months held
    /// that <paramref name="answers"/> does not name.
    /// </summary>
    public void Update(IReadOnlyCollection<((DateTimeOffset Month, int Shard) Month, MonthProducts? Answer)> answers)
    {
        var named = answers.Select(answer => answer.Month).ToHashSet();
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

        // One figure from every month held: added up afresh, which costs little.
        unlisted = Sum.Of(months.Values.Select(held => held.Unlisted));
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

    private void Replace((DateTimeOffset Month, int Shard) month, MonthProducts? answer)
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
        if (before is not null)
        {
            foreach (var (sku, sales) in before.Listed)
            {
                var sum = listed[sku];
                sum.Take(sales);
                if (answer is null || !answer.Listed.ContainsKey(sku))
                {
                    afresh.Add(sku);
                }
            }
        }

        if (answer is not null)
        {
            foreach (var (sku, sales) in answer.Listed)
            {
                if (!listed.TryGetValue(sku, out var sum))
                {
                    listed[sku] = sum = new Sum();
                }

                sum.Add(sales);
                if (sum.Revenue.Scale > sales.Revenue.Scale)
                {
                    afresh.Add(sku);
                }
            }
        }

        foreach (var sku in afresh)
        {
            var sum = Sum.Of(months.Values.Select(held => held.Listed.GetValueOrDefault(sku)));
            if (sum.Months == 0)
            {
                listed.Remove(sku);
            }
            else
            {
                listed[sku] = sum;
            }
        }
    }

    /// <summary>A SKU's (or the unlisted) sales over the months that list it, and how many do.</summary>
    private sealed class Sum
    {
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
            Quantity += sales.Quantity;
            Revenue += sales.Revenue;
            Months++;
        }

        public void Take(ProductTotals sales)
        {
            Quantity -= sales.Quantity;
            Revenue -= sales.Revenue;
            Months--;
        }
    }
}
