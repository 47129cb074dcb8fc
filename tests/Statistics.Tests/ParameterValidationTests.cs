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
    public async Task Good_parameters_are_answered(string path)
    {
        using var response = await fixture.Host.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: expected 200, got {(int)response.StatusCode}: {body}");
    }
}
