using System.Globalization;
using CsCheck;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics.Queries;
using OrderFlow.Statistics;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// The all-time product sales a query keeps between calls (<see cref="AllTimeProducts"/>) take a
/// changed month's answer in place of its previous one: after any sequence of months changing,
/// staying as they were and going, the best sellers are those of a sum made afresh over the months'
/// latest answers, to the last decimal place as written (a sum keeps the most places of what it added).
/// </summary>
public sealed class AllTimeProductsProperties
{
    private const int Months = 6;

    private static readonly Gen<ProductTotals> Sales = Gen.Select(Gen.Long[1, 5], Gen.Int[0, 99_999], Gen.Byte[0, 3],
        (quantity, units, places) => new ProductTotals { Quantity = quantity, Revenue = new decimal(units, 0, 0, false, places) });

    private static readonly Gen<MonthProducts> Answer = Gen.Select(
        Gen.Dictionary(Gen.OneOfConst("A", "B", "C", "D", "E", "F", "G"), Sales)[0, 6],
        Gen.Bool,
        Sales,
        (listed, hasUnlisted, unlisted) => new MonthProducts(listed, hasUnlisted ? unlisted : null));

    /// <summary>Of each month: 0 not named (gone), 1 unchanged if held, 2 a new answer.</summary>
    private static readonly Gen<(int[] Fates, MonthProducts[] Answers)[]> Steps =
        Gen.Select(Gen.Int[0, 2].Array[Months], Answer.Array[Months]).Array[1, 10];

    [Fact]
    public void The_sum_kept_between_queries_is_the_sum_made_afresh()
    {
        Steps.Sample(steps =>
        {
            var kept = new AllTimeProducts();
            var latest = new Dictionary<string, MonthProducts>();
            var version = 0L;
            foreach (var (fates, answers) in steps)
            {
                var update = new List<(string Month, MonthProducts? Answer)>();
                for (var i = 0; i < Months; i++)
                {
                    var month = "1/" + (i % 2).ToString(CultureInfo.InvariantCulture) + "/2026-0" + (1 + i / 2).ToString(CultureInfo.InvariantCulture);
                    if (fates[i] == 0)
                    {
                        latest.Remove(month);
                        continue;
                    }

                    if (fates[i] == 1 && latest.TryGetValue(month, out var held))
                    {
                        Assert.Equal(held.Version, kept.VersionOf(month));
                        update.Add((month, null));
                        continue;
                    }

                    var answer = answers[i] with { Version = new MonthProductsVersion(Guid.Empty, ++version) };
                    latest[month] = answer;
                    update.Add((month, answer));
                }

                kept.Update(update);
                foreach (var byQuantity in new[] { false, true })
                {
                    var expected = Afresh(latest.Values, byQuantity);
                    var actual = kept.Top(100, byQuantity);
                    Assert.Equal(Written(expected), Written(actual));
                }
            }
        }, iter: 2_000);
    }

    [Fact]
    public void A_sum_that_overflows_leaves_nothing_held()
    {
        var kept = new AllTimeProducts();
        static MonthProducts Huge(long version) =>
            new(new() { ["A"] = new ProductTotals { Quantity = 1, Revenue = decimal.MaxValue } }, null, new MonthProductsVersion(Guid.Empty, version));
        kept.Update([("1/0/2026-01", Huge(1))]);

        Assert.Throws<OverflowException>(() => kept.Update([("1/0/2026-01", null), ("1/1/2026-01", Huge(2))]));
        Assert.Null(kept.VersionOf("1/0/2026-01"));
        Assert.Empty(kept.Top(10, byQuantity: true).Products);

        kept.Update([("1/0/2026-01", Huge(1))]);
        Assert.Equal(decimal.MaxValue, Assert.Single(kept.Top(10, byQuantity: true).Products).Revenue);
    }

    /// <summary>The best sellers as the query made them before it kept anything: every month's products added up in a new dictionary.</summary>
    private static ProductsReport Afresh(IEnumerable<MonthProducts> months, bool byQuantity)
    {
        var products = new Dictionary<string, ProductTotals>();
        ProductTotals? unlisted = null;
        foreach (var month in months)
        {
            ProductTotals.Merge(products, month.Listed);
            if (month.Unlisted is { } sales)
            {
                (unlisted ??= new ProductTotals()).Add(sales);
            }
        }

        var ordered = byQuantity
            ? products.OrderByDescending(p => p.Value.Quantity).ThenByDescending(p => p.Value.Revenue)
            : products.OrderByDescending(p => p.Value.Revenue).ThenByDescending(p => p.Value.Quantity);
        return new ProductsReport(
            [.. ordered.ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => new ProductSales(p.Key, p.Value.Quantity, p.Value.Revenue))],
            unlisted is null ? null : new UnlistedSales(unlisted.Quantity, unlisted.Revenue));
    }

    /// <summary>The report as text, so that 1.50 and 1.5 differ, as they do in the API's JSON.</summary>
    private static string Written(ProductsReport report) =>
        string.Join("; ", report.Products.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Sku} {p.Quantity} {p.Revenue}")))
        + (report.Unlisted is { } unlisted ? string.Create(CultureInfo.InvariantCulture, $" | unlisted {unlisted.Quantity} {unlisted.Revenue}") : "");
}
