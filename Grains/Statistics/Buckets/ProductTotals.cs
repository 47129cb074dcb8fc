using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Buckets;

/// <summary>Units and revenue of one product over paid orders.</summary>
[GenerateSerializer, Alias("orderflow.product-totals")]
public sealed class ProductTotals
{
    [Id(0)] public long Quantity { get; set; }

    [Id(1)] public decimal Revenue { get; set; }

    /// <summary>Adds a paid order's lines to <paramref name="products"/>.</summary>
    public static void AddPaid(Dictionary<string, ProductTotals> products, OrderEventEnvelope paid)
    {
        foreach (var line in paid.Items)
        {
            if (!products.TryGetValue(line.Sku, out var totals))
            {
                products[line.Sku] = totals = new ProductTotals();
            }

            totals.Quantity += line.Quantity;
            totals.Revenue += line.Quantity * line.UnitPrice;
        }
    }

    public static void Merge(Dictionary<string, ProductTotals> into, Dictionary<string, ProductTotals> from)
    {
        foreach (var (sku, other) in from)
        {
            if (!into.TryGetValue(sku, out var totals))
            {
                into[sku] = totals = new ProductTotals();
            }

            totals.Add(other);
        }
    }

    public void Add(ProductTotals other)
    {
        Quantity += other.Quantity;
        Revenue += other.Revenue;
    }
}
