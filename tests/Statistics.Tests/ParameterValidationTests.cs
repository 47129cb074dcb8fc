using System.Net;
using System.Text.Json;
using OrderFlow.Statistics.Tests.Infrastructure;

namespace OrderFlow.Statistics.Tests;

/// <summary>API.md "Statistics" and README: bad parameters are 400 problem documents naming the parameter; an unknown customer is 404.</summary>
[Collection(ApiCollection.Name)]
public sealed class ParameterValidationTests(StatsApiFixture fixture)
{
    [Theory]
    [InlineData("/api/stats/summary?from=2020-03-02T00:00:00Z&to=2020-03-01T00:00:00Z", "from")] // from after to
    [InlineData("/api/stats/summary?from=2020-03-01T10:00:30Z&to=2020-03-02T00:00:00Z", "from")] // not a whole minute
    [InlineData("/api/stats/summary?from=2020-03-01T00:00:00Z&to=2020-03-01T10:00:00.500Z", "to")]
    [InlineData("/api/stats/summary?from=yesterday", "from")]
    [InlineData("/api/stats/timeseries?from=2020-03-01T00:00:00Z&to=2020-03-02T00:00:00Z&interval=week", "interval")]
    [InlineData("/api/stats/timeseries?from=2020-03-01T00:00:00Z&to=2020-03-02T00:00:00Z", "interval")]
    [InlineData("/api/stats/timeseries?to=2020-03-02T00:00:00Z&interval=hour", "from")] // from missing
    [InlineData("/api/stats/timeseries?from=2020-03-01T00:00:00Z&interval=hour", "to")] // to missing
    [InlineData("/api/stats/timeseries?from=2020-03-01T10:30:00Z&to=2020-03-01T12:00:00Z&interval=hour", "from")] // not on an hour
    [InlineData("/api/stats/timeseries?from=2020-03-01T10:00:00Z&to=2020-03-01T12:30:00Z&interval=hour", "to")]
    [InlineData("/api/stats/timeseries?from=2020-03-01T06:00:00Z&to=2020-03-03T00:00:00Z&interval=day", "from")] // not on a day
    [InlineData("/api/stats/timeseries?from=2020-03-01T00:00:00Z&to=2020-03-07T22:41:00Z&interval=minute", "to")] // 10,001 buckets
    [InlineData("/api/stats/timeseries?from=2020-03-01T00:00:00Z&to=2047-07-19T00:00:00Z&interval=day", "to")] // 10,001 days
    [InlineData("/api/stats/timeseries?from=2020-03-02T00:00:00Z&to=2020-03-01T00:00:00Z&interval=day", "from")] // from after to
    [InlineData("/api/stats/products?by=price", "by")]
    [InlineData("/api/stats/products?top=0", "top")]
    [InlineData("/api/stats/products?top=ten", "top")]
    [InlineData("/api/stats/products?top=-1", "top")]
    [InlineData("/api/stats/stuck?status=delivered", "status")]
    [InlineData("/api/stats/stuck?status=pending", "status")]
    [InlineData("/api/stats/stuck?status=paid&olderThan=2h", "olderThan")]
    [InlineData("/api/stats/stuck?status=paid&olderThan=-PT1H", "olderThan")]
    [InlineData("/api/alerts?limit=0", "limit")]
    [InlineData("/api/alerts?limit=many", "limit")]
    [InlineData("/api/alerts?since=soon", "since")]
    [InlineData("/api/stats/customers/not%20an%20id", "customerId")]
    public async Task A_bad_parameter_is_a_400_problem_document_naming_it(string path, string parameter)
    {
        using var response = await fixture.Host.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"GET {path}: expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(body);
        var problem = document.RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(parameter, out var messages) && messages.GetArrayLength() > 0,
            $"GET {path}: the problem's errors do not name '{parameter}': {body}");
    }

    /// <summary>
    /// Issue 8: extreme times and durations reached the statistics' date arithmetic and answered
    /// 500 (or, for an offset near the minimum date, a silently wrong range). They are refused at
    /// the edge, naming the parameter and the allowed range.
    /// </summary>
    [Theory]
    [InlineData("/api/stats/summary?to=9999-12-31T23:59:00Z", "to", "9999-01-01T00:00:00Z")] // the reported 500: a day after the last day overflows
    [InlineData("/api/stats/summary?from=9999-12-31T23:00:00Z", "from", "9999-01-01T00:00:00Z")]
    [InlineData("/api/stats/summary?from=0001-01-01T00:00:00%2B14:00", "from", "1601-01-01T00:00:00Z")] // UTC before year 1
    [InlineData("/api/stats/summary?from=0001-01-01T00:00:00+14:00", "from", "1601-01-01T00:00:00Z")] // '+' arrives as a space
    [InlineData("/api/stats/summary?from=0001-01-01T00:00:00-14:00", "from", "1601-01-01T00:00:00Z")]
    [InlineData("/api/stats/summary?from=1600-12-31T23:59:00Z", "from", "1601-01-01T00:00:00Z")]
    [InlineData("/api/stats/timeseries?from=0001-01-01T00:00:00Z&to=0001-01-01T00:00:00Z&interval=day", "from", "1601-01-01T00:00:00Z")]
    [InlineData("/api/stats/timeseries?from=9999-12-31T00:00:00Z&to=9999-12-31T00:00:00Z&interval=day", "to", "9999-01-01T00:00:00Z")]
    [InlineData("/api/alerts?since=9999-12-31T23:59:59.9999999Z", "since", "9999-01-01T00:00:00Z")]
    [InlineData("/api/stats/stuck?status=paid&olderThan=P99999999D", "olderThan", "P36500D")] // the reported 500: OverflowException in the parser
    [InlineData("/api/stats/stuck?status=paid&olderThan=P740000D", "olderThan", "P36500D")] // the reported 500: now - age before year 1
    [InlineData("/api/stats/stuck?status=paid&olderThan=P36501D", "olderThan", "P36500D")]
    [InlineData("/api/stats/stuck?status=paid&olderThan=P1000000Y", "olderThan", "P36500D")]
    public async Task Extreme_times_and_durations_are_a_400_stating_the_range(string path, string parameter, string range)
    {
        using var response = await fixture.Host.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"GET {path}: expected 400, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        var messages = document.RootElement.GetProperty("errors").GetProperty(parameter);
        Assert.Contains(range, messages[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/stats/customers/c%0A")]
    [InlineData("/api/stats/customers/...")]
    public async Task A_customer_id_with_a_newline_or_of_dots_only_is_400(string path)
    {
        using var response = await fixture.Host.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"GET {path}: expected 400, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        Assert.True(document.RootElement.GetProperty("errors").TryGetProperty("customerId", out _), body);
    }

    [Fact]
    public async Task An_unknown_customer_is_a_404_problem_document()
    {
        using var response = await fixture.Host.Http.GetAsync("/api/stats/customers/nobody-ever-ordered", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(body);
        Assert.Equal(404, document.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(document.RootElement.GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("/api/stats/timeseries?from=2020-03-01T00:00:00Z&to=2020-03-07T22:40:00Z&interval=minute", 10_000)] // exactly 10,000: allowed
    [InlineData("/api/stats/timeseries?from=2020-03-01T00:00:00Z&to=2020-03-01T00:00:00Z&interval=hour", 0)] // an empty range
    [InlineData("/api/stats/timeseries?from=2020-03-01T02:00:00%2B02:00&to=2020-03-02T00:00:00Z&interval=day", 1)] // an offset that lands on midnight UTC
    public async Task Boundary_ranges_are_answered(string path, int buckets)
    {
        using var response = await fixture.Host.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: expected 200, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        Assert.Equal(buckets, document.RootElement.GetProperty("buckets").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/stats/summary?from=2020-03-01T00:00:00Z&to=2020-03-01T00:00:00Z")]
    [InlineData("/api/stats/summary?from=2020-03-01T00:00:00Z")]
    [InlineData("/api/stats/summary?to=2020-03-01T00:00:00Z")]
    [InlineData("/api/stats/stuck?status=shipped&olderThan=P1D")]
    [InlineData("/api/alerts?since=2020-03-01T00:00:30.250Z&limit=1000")]
    [InlineData("/api/stats/products?top=1000&by=quantity")]
    [InlineData("/api/stats/stuck?status=paid&olderThan=P36500D")] // the longest duration allowed
    [InlineData("/api/stats/summary?from=1601-01-01T00:00:00Z&to=9999-01-01T00:00:00Z")] // the widest range allowed
    [InlineData("/api/stats/timeseries?from=9998-12-31T00:00:00Z&to=9999-01-01T00:00:00Z&interval=minute")]
    [InlineData("/api/stats/timeseries?from=1601-01-01T00:00:00Z&to=1601-01-01T00:00:00Z&interval=day")]
    public async Task Good_parameters_are_answered(string path)
    {
        using var response = await fixture.Host.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: expected 200, got {(int)response.StatusCode}: {body}");
    }
}
