using System.Globalization;
using System.Xml;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Json;
using OrderFlow.Orders;
using OrderFlow.Statistics;

namespace OrderFlow.Api.Statistics;

/// <summary>API.md "Statistics": projections of the order event stream, by event time.</summary>
public static class StatisticsApi
{
    /// <summary>API.md: a range over more than this many buckets is refused.</summary>
    public const int MaxBuckets = 10_000;

    public const int MaxListSize = 1000;

    /// <summary>The longest duration a parameter may name (olderThan): 36,500 days, about 100 years.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(36_500);

    public static readonly string DurationRule = string.Create(CultureInfo.InvariantCulture,
        $"must be an ISO 8601 duration from PT0S to P{MaxDuration.TotalDays:0}D (about 100 years), for example PT2H or P1D");

    public static IEndpointRouteBuilder MapStatisticsApi(this IEndpointRouteBuilder endpoints)
    {
        var stats = endpoints.MapGroup("/api/stats").WithTags("Statistics").RequireAuthorization(ApiPolicies.Read);
        stats.MapGet("/summary", Summary).WithName("GetSummary")
            .WithSummary("Counts, money, funnel and stage latency within [from, to) by event time; all time without a range")
            .Produces<SummaryReport>().ProducesValidationProblem();
        stats.MapGet("/timeseries", TimeSeries).WithName("GetTimeSeries")
            .WithSummary("Minute, hour or day buckets over [from, to) by event time")
            .Produces<TimeSeriesReport>().ProducesValidationProblem();
        stats.MapGet("/products", Products).WithName("GetTopProducts")
            .WithSummary("Best-selling products of paid orders, by revenue or quantity")
            .Produces<ProductsResponse>().ProducesValidationProblem();
        stats.MapGet("/customers/{customerId}", Customer).WithName("GetCustomer")
            .WithSummary("A customer's orders, spend, cancellations, refunds and risk")
            .Produces<CustomerReport>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        stats.MapGet("/stuck", Stuck).WithName("GetStuckOrders")
            .WithSummary("Orders that have stayed in a status (placed, paid, shipped) for longer than olderThan")
            .Produces<StuckOrdersResponse>().ProducesValidationProblem();
        endpoints.MapGet("/api/alerts", Alerts).WithTags("Statistics").RequireAuthorization(ApiPolicies.Read).WithName("GetAlerts")
            .WithSummary("Risk alerts raised since a time, oldest first")
            .Produces<AlertsResponse>().ProducesValidationProblem();
        return endpoints;
    }

    public sealed record ProductsResponse(IReadOnlyList<ProductSales> Products);

    public sealed record AlertsResponse(IReadOnlyList<RiskAlert> Alerts);

    public sealed record StuckOrdersResponse(IReadOnlyList<StuckOrder> Orders);

    private static async Task<IResult> Summary(string? from, string? to, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        var start = Time(from, "from", errors);
        var end = Time(to, "to", errors);
        if (errors.Count == 0 && start is { } s && end is { } e && s > e)
        {
            errors["from"] = ["must not be after to"];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return TypedResults.Ok(await grains.GetGrain<IStatisticsGrain>(0).Summary(start, end));
    }

    private static async Task<IResult> TimeSeries(string? from, string? to, string? interval, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        var start = Time(from, "from", errors, required: true);
        var end = Time(to, "to", errors, required: true);
        StatsInterval? step = interval switch
        {
            "minute" => StatsInterval.Minute,
            "hour" => StatsInterval.Hour,
            "day" => StatsInterval.Day,
            _ => null,
        };
        if (step is null)
        {
            errors["interval"] = ["must be minute, hour or day"];
        }

        if (errors.Count == 0)
        {
            var length = step switch { StatsInterval.Minute => TimeSpan.FromMinutes(1), StatsInterval.Hour => TimeSpan.FromHours(1), _ => TimeSpan.FromDays(1) };
            if (start > end)
            {
                errors["from"] = ["must not be after to"];
            }
            else if (start!.Value.Ticks % length.Ticks != 0 || end!.Value.Ticks % length.Ticks != 0)
            {
                errors[start.Value.Ticks % length.Ticks != 0 ? "from" : "to"] = [$"must start a whole {interval} (UTC) for interval={interval}"];
            }
            else if ((end.Value - start.Value).Ticks / length.Ticks > MaxBuckets)
            {
                errors["to"] = [string.Create(CultureInfo.InvariantCulture, $"the range spans more than {MaxBuckets:N0} {interval} buckets")];
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return TypedResults.Ok(await grains.GetGrain<IStatisticsGrain>(0).TimeSeries(start!.Value, end!.Value, step!.Value));
    }

    private static async Task<IResult> Products(string? top, string? by, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        var count = Count(top, "top", 10, errors);
        if (by is not (null or "revenue" or "quantity"))
        {
            errors["by"] = ["must be revenue or quantity"];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return TypedResults.Ok(new ProductsResponse(await grains.GetGrain<IStatisticsGrain>(0).TopProducts(count, by == "quantity")));
    }

    private static async Task<IResult> Customer(string customerId, IGrainFactory grains)
    {
        if (!Identifiers.IsValid(customerId))
        {
            return Problems.Validation("customerId", Identifiers.Rule);
        }

        var report = await grains.GetGrain<IStatisticsGrain>(0).Customer(customerId);
        return report is null ? Problems.NotFound($"No order of customer '{customerId}' has been seen.") : TypedResults.Ok(report);
    }

    private static async Task<IResult> Alerts(string? since, string? limit, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        var start = Time(since, "since", errors, mustBeWholeMinute: false);
        var count = Count(limit, "limit", 100, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return TypedResults.Ok(new AlertsResponse(await grains.GetGrain<IStatisticsGrain>(0).Alerts(start, count)));
    }

    private static async Task<IResult> Stuck(string? status, string? olderThan, string? limit, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        OrderStatus? state = status switch
        {
            "placed" => OrderStatus.Placed,
            "paid" => OrderStatus.Paid,
            "shipped" => OrderStatus.Shipped,
            _ => null,
        };
        if (state is null)
        {
            errors["status"] = ["must be placed, paid or shipped (the statuses an order can get stuck in)"];
        }

        var age = olderThan is null ? TimeSpan.FromHours(2) : Duration(olderThan, "olderThan", errors);
        var count = Count(limit, "limit", 100, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return TypedResults.Ok(new StuckOrdersResponse(await grains.GetGrain<IStatisticsGrain>(0).Stuck(state!.Value, age, count)));
    }

    private static DateTimeOffset? Time(string? text, string name, Dictionary<string, string[]> errors, bool required = false, bool mustBeWholeMinute = true)
    {
        if (text is null)
        {
            if (required)
            {
                errors[name] = ["is required"];
            }

            return null;
        }

        if (!UtcDateTimeOffsetConverter.TryParseQuery(text, out var time))
        {
            errors[name] = [UtcDateTimeOffsetConverter.Rule];
            return null;
        }

        if (mustBeWholeMinute && time.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            errors[name] = ["must be a whole minute (UTC): statistics are kept per minute"];
            return null;
        }

        return time;
    }

    /// <summary>
    /// The one rule for durations: an ISO 8601 duration (PT2H, P1D) from zero to
    /// <see cref="MaxDuration"/>, checked before any arithmetic on it ("now - age" must stay a time).
    /// </summary>
    private static TimeSpan Duration(string text, string name, Dictionary<string, string[]> errors)
    {
        TimeSpan duration;
        try
        {
            duration = XmlConvert.ToTimeSpan(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            duration = TimeSpan.MinValue; // out of any range: reported below
        }

        if (duration < TimeSpan.Zero || duration > MaxDuration)
        {
            errors[name] = [DurationRule];
        }

        return duration;
    }

    private static int Count(string? text, string name, int fallback, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > MaxListSize)
        {
            errors[name] = [$"must be a whole number from 1 to {MaxListSize}"];
        }

        return count;
    }
}
