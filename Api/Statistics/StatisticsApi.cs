using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Serialization;
using OrderFlow.Api.Auth;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Json;
using OrderFlow.Api.Operations;
using OrderFlow.Orders;
using OrderFlow.Statistics;

namespace OrderFlow.Api.Statistics;

/// <summary>API.md "Statistics": projections of the order event stream, by event time.</summary>
public static class StatisticsApi
{
    /// <summary>API.md: a range over more than this many buckets is refused.</summary>
    public const int MaxBuckets = 10_000;

    public const int MaxListSize = 1000;

    /// <summary>OpenAPI text of the one range rule, <see cref="StatsRange"/>.</summary>
    public const string RangeRule =
        "Times are ISO 8601 of any precision and offset. Statistics are kept per minute: a minute counts when its start lies in [from, to), "
        + "so both ends take effect rounded up to the whole minute (UTC).";

    /// <summary>The longest duration a parameter may name (olderThan): 36,500 days, about 100 years.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(36_500);

    public static readonly string DurationRule = string.Create(CultureInfo.InvariantCulture,
        $"must be an ISO 8601 duration from PT0S to P{MaxDuration.TotalDays:0}D (about 100 years), for example PT2H, P1D or P1W");

    public static IEndpointRouteBuilder MapStatisticsApi(this IEndpointRouteBuilder endpoints)
    {
        var stats = endpoints.MapGroup("/api/stats").WithTags("Statistics").RequireAuthorization(ApiPolicies.Read).AnswersStatisticsProblems();
        stats.MapGet("/summary", Summary).WithName("GetSummary")
            .WithSummary("Counts, money, funnel and stage latency within [from, to) by event time; all time without a range")
            .WithDescription(RangeRule + " An absent from or to leaves that end open (all time). The answer's from and to echo the effective range.")
            .Returns<SummaryReport>(StatusCodes.Status200OK, "Counts, money (total and per currency), funnel ratios and latency percentiles (seconds to the millisecond, within 1 %) of the range.")
            .AnswersInvalid("from or to is not a time, or from is after to");
        stats.MapGet("/timeseries", TimeSeries).WithName("GetTimeSeries")
            .WithSummary("Minute, hour or day buckets (UTC) over [from, to) by event time; to defaults to now, from to the last 60 buckets")
            .WithDescription(RangeRule + " Buckets are whole UTC minutes, hours or days; the first and last may be partial "
                + "(partial: true, counting only their covered from..to). Without to: now. Without from: the 60 buckets that end with "
                + "the one holding to. At most 10,000 buckets. The answer's from and to echo the effective range.")
            .Returns<TimeSeriesReport>(StatusCodes.Status200OK, "The buckets of the effective range, oldest first; partial edge buckets are marked.")
            .AnswersInvalid(string.Create(CultureInfo.InvariantCulture, $"interval is absent or not minute, hour or day; from or to is not a time; from is after to; or the range spans more than {MaxBuckets:N0} buckets"));
        stats.MapGet("/products", Products).WithName("GetTopProducts")
            .WithSummary("Best-selling products of paid orders, by revenue or quantity")
            .Returns<ProductsResponse>(StatusCodes.Status200OK, "The products, best first.")
            .AnswersInvalid($"top is not a whole number from 1 to {MaxListSize}, or by is not revenue or quantity");
        stats.MapGet("/customers/{customerId}", Customer).WithName("GetCustomer")
            .WithSummary("A customer's orders, spend, cancellations, refunds and risk")
            .Returns<CustomerReport>(StatusCodes.Status200OK, "The customer's figures and risk score, with the rules that fired.")
            .AnswersInvalid("the customerId is not an identifier")
            .Answers(StatusCodes.Status404NotFound, "No order of this customer has been seen (/problems/not-found).");
        stats.MapGet("/stuck", Stuck).WithName("GetStuckOrders")
            .WithSummary("Orders that have stayed in a status (placed, paid, shipped) for at least olderThan")
            .Returns<StuckOrdersResponse>(StatusCodes.Status200OK, "The stuck orders, longest stuck first.")
            .AnswersInvalid($"status is absent or not placed, paid or shipped; olderThan is not a duration from PT0S to P{MaxDuration.TotalDays:0}D; or limit is not from 1 to {MaxListSize}");
        endpoints.MapGet("/api/alerts", Alerts).WithTags("Statistics").RequireAuthorization(ApiPolicies.Read).AnswersStatisticsProblems().WithName("GetAlerts")
            .WithSummary("Risk alerts raised since a time, oldest first")
            .Returns<AlertsResponse>(StatusCodes.Status200OK, "The alerts, oldest first.")
            .AnswersInvalid($"since is not a time, or limit is not a whole number from 1 to {MaxListSize}");
        return endpoints;
    }

    private static TBuilder AnswersStatisticsProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AnswersUnauthorized("the reader or admin role")
            .AnswersUnavailableQuery("the statistics are being rebuilt after an upgrade or a rollback changed their layout (/problems/statistics-unavailable; orders are unaffected)");

    /// <param name="Products">The products, best first.</param>
    /// <param name="Unlisted">
    /// Present only when some month no longer lists every product it sold (its list outgrew its
    /// storage; README "Capacity"): those products' sales summed, left out of their products' figures.
    /// </param>
    public sealed record ProductsResponse(
        IReadOnlyList<ProductSales> Products,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] UnlistedSales? Unlisted);

    public sealed record AlertsResponse(IReadOnlyList<RiskAlert> Alerts);

    public sealed record StuckOrdersResponse(IReadOnlyList<StuckOrder> Orders);

    private static async Task<IResult> Summary(
        [Description("Start of the range (inclusive), ISO 8601 of any precision; rounded up to the minute. Absent: from the first event.")] string? from,
        [Description("End of the range (exclusive), ISO 8601 of any precision; rounded up to the minute, so the minute holding it counts. Absent: to the last event.")] string? to,
        IGrainFactory grains)
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

    private static async Task<IResult> TimeSeries(
        [Description("Start of the range (inclusive), ISO 8601 of any precision; rounded up to the minute. Absent: the start of the 60th bucket back from to.")] string? from,
        [Description("End of the range (exclusive), ISO 8601 of any precision; rounded up to the minute, so the minute holding it counts. Absent: now.")] string? to,
        [Description("Bucket length: minute, hour or day (UTC). Required.")] string? interval,
        IGrainFactory grains,
        TimeProvider clock)
    {
        var errors = new Dictionary<string, string[]>();
        var start = Time(from, "from", errors);
        var end = Time(to, "to", errors);
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
            end ??= Now(clock);
            var effectiveTo = StatsRange.MinuteCeiling(end!.Value);
            start ??= StatsRange.DefaultFrom(effectiveTo, step!.Value, UtcDateTimeOffsetConverter.MinTime);
            if (start > end)
            {
                errors["from"] = [to is null ? "must not be after to (now, when to is absent)" : "must not be after to"];
            }
            else if (StatsRange.BucketCount(StatsRange.MinuteCeiling(start.Value), effectiveTo, step!.Value) > MaxBuckets)
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

    private static async Task<IResult> Products(
        [Description("How many products, 1 to 1000; 10 when absent.")] string? top,
        [Description("Rank by revenue (the default) or quantity. Revenue adds the amounts of every currency as they are, unconverted.")] string? by,
        IGrainFactory grains)
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

        var report = await grains.GetGrain<IStatisticsGrain>(0).TopProducts(count, by == "quantity");
        return TypedResults.Ok(new ProductsResponse(report.Products, report.Unlisted));
    }

    private static async Task<IResult> Customer(
        [Description("The customer's id as given when placing orders: 1–64 characters of letters, digits, '-', '_' or '.', and not only dots.")] string customerId,
        IGrainFactory grains)
    {
        if (!Identifiers.IsValid(customerId))
        {
            return Problems.Validation("customerId", Identifiers.Rule);
        }

        var report = await grains.GetGrain<IStatisticsGrain>(0).Customer(customerId);
        return report is null ? Problems.NotFound($"No order of customer '{customerId}' has been seen.") : TypedResults.Ok(report);
    }

    private static async Task<IResult> Alerts(
        [Description("Only alerts raised since this time, ISO 8601; all when absent.")] string? since,
        [Description("How many alerts at most, 1 to 1000; 100 when absent.")] string? limit,
        IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        var start = Time(since, "since", errors);
        var count = Count(limit, "limit", 100, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return TypedResults.Ok(new AlertsResponse(await grains.GetGrain<IStatisticsGrain>(0).Alerts(start, count)));
    }

    private static async Task<IResult> Stuck(
        [Description("The status the orders are stuck in: placed, paid or shipped. Required.")] string? status,
        [Description("How long they have been in it at least, an ISO 8601 duration (PT30M, P1D); PT2H when absent.")] string? olderThan,
        [Description("How many orders at most, 1 to 1000; 100 when absent.")] string? limit,
        IGrainFactory grains)
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

    /// <summary>The current time, within what a parameter may name (a clock past the last allowed time answers as that time).</summary>
    private static DateTimeOffset Now(TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        return now > UtcDateTimeOffsetConverter.MaxTime ? UtcDateTimeOffsetConverter.MaxTime : now;
    }

    private static DateTimeOffset? Time(string? text, string name, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (!UtcDateTimeOffsetConverter.TryParseQuery(text, out var time))
        {
            errors[name] = [UtcDateTimeOffsetConverter.Rule];
            return null;
        }

        return time;
    }

    /// <summary>
    /// The one rule for durations: an ISO 8601 duration (PT2H, P1D, P1W, P0.5D: <see cref="IsoDurations"/>) from zero to
    /// <see cref="MaxDuration"/>, checked before any arithmetic on it ("now - age" must stay a time).
    /// </summary>
    private static TimeSpan Duration(string text, string name, Dictionary<string, string[]> errors)
    {
        if (!IsoDurations.TryParse(text, out var duration))
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

        if (!WholeNumbers.TryParse(text, out var count) || count is < 1 or > MaxListSize)
        {
            errors[name] = [$"must be a whole number from 1 to {MaxListSize}"];
        }

        return count;
    }
}
