using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using OrderFlow.Grains.Orders;

namespace OrderFlow.Silo;

/// <summary>
/// When idle activations leave memory (README "Configuration"): Orleans keeps every activation for
/// 15 idle minutes, so a silo's memory grew with every order touched in the last quarter hour and
/// did not plateau under a sustained load. Each figure can be overridden under
/// <c>Orleans:GrainCollection</c> (the names of <see cref="GrainCollectionOptions"/>; per grain class
/// under <c>ClassSpecificCollectionAge:{full class name}</c>).
/// </summary>
public static class GrainCollectionTuning
{
    public const string Section = "Orleans:GrainCollection";

    /// <summary>
    /// An order is touched in short bursts (placed, then paid, shipped… minutes or days apart) and
    /// its activation is only a cache of its log: reloading it costs one query, keeping it costs
    /// memory for every order of the last minutes.
    /// </summary>
    public static readonly TimeSpan OrderCollectionAge = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Under memory pressure (of the machine or the container's limit) Orleans deactivates the
    /// least recently used activations until usage is back under <see cref="MemoryUsageTargetPercentage"/>.
    /// </summary>
    public const double MemoryUsageLimitPercentage = 80;

    public const double MemoryUsageTargetPercentage = 70;

    public static void Configure(IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<GrainCollectionOptions>(options =>
        {
            options.ClassSpecificCollectionAge[typeof(OrderGrain).FullName!] = OrderCollectionAge;
            options.EnableActivationSheddingOnMemoryPressure = true;
            options.MemoryUsageLimitPercentage = MemoryUsageLimitPercentage;
            options.MemoryUsageTargetPercentage = MemoryUsageTargetPercentage;
        });
        services.Configure<GrainCollectionOptions>(configuration.GetSection(Section));
    }
}
