using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using OrderFlow.Api.Errors;

namespace OrderFlow.Api.Auth;

/// <summary>
/// The per-caller limit on commands (the POST routes under <c>/api/orders</c> and <c>/api/customers</c>): one bucket per API key,
/// per token subject (<see cref="EntraBearerAuthentication.CallerNamePrefix"/>), and, where
/// authentication is off, per client IP address. Over the limit: 429 with <c>Retry-After</c>.
/// </summary>
public static class CommandRateLimits
{
    public const string PolicyName = "commands";

    public static IServiceCollection AddCommandRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection(CommandRateLimitOptions.Section).Get<CommandRateLimitOptions>() ?? new CommandRateLimitOptions();
        if (!(limits.PermitsPerSecond > 0) || limits.Burst < 1)
        {
            throw new InvalidOperationException(
                $"{CommandRateLimitOptions.Section}: PermitsPerSecond must be above 0 and Burst at least 1 (got {limits.PermitsPerSecond} and {limits.Burst}).");
        }

        // Whole tokens per period: below one a second, one token every 1/PermitsPerSecond seconds.
        var tokensPerPeriod = Math.Max(1, (int)Math.Floor(limits.PermitsPerSecond));
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.Burst,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokensPerPeriod / limits.PermitsPerSecond),
            QueueLimit = 0, // refuse at once: the caller retries after Retry-After
            AutoReplenishment = true,
        };
        return services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(PolicyName, http => RateLimitPartition.GetTokenBucketLimiter(CallerOf(http), _ => bucket));
            options.OnRejected = (context, _) => new ValueTask(RefuseAsync(context, limits, bucket.ReplenishmentPeriod));
        });
    }

    /// <summary>The caller a bucket belongs to: the authenticated name, else the client's address.</summary>
    public static string CallerOf(HttpContext http) =>
        http.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name }
            ? name
            : "ip:" + http.Connection.RemoteIpAddress;

    private static Task RefuseAsync(OnRejectedContext context, CommandRateLimitOptions limits, TimeSpan replenishment)
    {
        var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : replenishment;
        var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Problems.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
            string.Create(CultureInfo.InvariantCulture,
                $"This caller may send {limits.PermitsPerSecond} commands a second, in bursts of up to {limits.Burst}; nothing was done. Retry after {seconds} s."),
            "rate-limited");
    }
}
