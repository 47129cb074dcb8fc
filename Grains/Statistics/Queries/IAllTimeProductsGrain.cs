using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Queries;

/// <summary>The best sellers of all time of one projection generation (the key). See <see cref="AllTimeProductsGrain"/>.</summary>
[Alias("orderflow.all-time-products")]
public interface IAllTimeProductsGrain : IGrainWithIntegerKey
{
    /// <summary>The best-selling <paramref name="top"/> products by revenue (or quantity), and the sales of products no longer listed.</summary>
    [Alias("top")]
    Task<ProductsReport> Top(int top, bool byQuantity);
}
