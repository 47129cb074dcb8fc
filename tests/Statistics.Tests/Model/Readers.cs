using System.Net;
using System.Text.Json;
using OrderFlow.Api.Errors;
using OrderFlow.Orders;
using OrderFlow.Storage;

namespace OrderFlow.Statistics.Tests.Model;

/// <summary>
/// Reads the statistics through <see cref="IStatisticsGrain"/>, as the API does. A read that storage
/// did not answer in time (<see cref="StorageUnavailableException"/>, a 503 over HTTP) is asked again
/// a few times, as a client does: an overloaded machine is not a wrong answer. What counts as storage
/// not answering is what the API answers 503 for (<see cref="Unavailability"/>).
/// </summary>
public sealed class GrainStatsReader(IGrainFactory grains) : IStatsReader
{
    public const int MaxList = 1000;

    private IStatisticsGrain Statistics => grains.GetGrain<IStatisticsGrain>(0);

    public Task<SummaryReport> Summary(DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken) =>
        RetryUnavailableAsync(() => Statistics.Summary(from, to), cancellationToken);

    public Task<TimeSeriesReport> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval, CancellationToken cancellationToken) =>
        RetryUnavailableAsync(() => Statistics.TimeSeries(from, to, interval), cancellationToken);

    public async Task<IReadOnlyList<ProductSales>> TopProducts(int top, bool byQuantity, CancellationToken cancellationToken) =>
        (await RetryUnavailableAsync(() => Statistics.TopProducts(top, byQuantity), cancellationToken)).Products;

    public Task<CustomerReport?> Customer(string customerId, CancellationToken cancellationToken) =>
        RetryUnavailableAsync(() => Statistics.Customer(customerId), cancellationToken);

    public Task<IReadOnlyList<RiskAlert>> Alerts(CancellationToken cancellationToken) =>
        RetryUnavailableAsync(() => Statistics.Alerts(null, MaxList), cancellationToken);

    public Task<IReadOnlyList<StuckOrder>> Stuck(OrderStatus status, CancellationToken cancellationToken) =>
        RetryUnavailableAsync(() => Statistics.Stuck(status, TimeSpan.Zero, MaxList), cancellationToken);

    private static async Task<T> RetryUnavailableAsync<T>(Func<Task<T>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (Exception exception) when (attempt < StatsReaders.Attempts && Unavailability.CauseOf(exception) == UnavailableCause.Storage)
            {
                await Task.Delay(StatsReaders.Pause(attempt), cancellationToken);
            }
        }
    }
}

/// <summary>Reads the statistics over the real HTTP API (API.md "Statistics").</summary>
public sealed class HttpStatsReader(HttpClient http) : IStatsReader
{
    public async Task<SummaryReport> Summary(DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (from is not null)
        {
            query.Add("from=" + StatsCheck.Time(from));
        }

        if (to is not null)
        {
            query.Add("to=" + StatsCheck.Time(to));
        }

        return await GetAsync<SummaryReport>("/api/stats/summary" + (query.Count > 0 ? "?" + string.Join("&", query) : string.Empty), cancellationToken);
    }

    public Task<TimeSeriesReport> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval, CancellationToken cancellationToken) =>
        GetAsync<TimeSeriesReport>($"/api/stats/timeseries?from={StatsCheck.Time(from)}&to={StatsCheck.Time(to)}&interval={interval.ToString().ToLowerInvariant()}", cancellationToken);

    public async Task<IReadOnlyList<ProductSales>> TopProducts(int top, bool byQuantity, CancellationToken cancellationToken) =>
        (await GetAsync<ProductsBody>($"/api/stats/products?top={top}&by={(byQuantity ? "quantity" : "revenue")}", cancellationToken)).Products;

    public async Task<CustomerReport?> Customer(string customerId, CancellationToken cancellationToken)
    {
        using var response = await GetAnsweredAsync("/api/stats/customers/" + Uri.EscapeDataString(customerId), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return null;
        }

        return await ReadAsync<CustomerReport>(response, cancellationToken);
    }

    public async Task<IReadOnlyList<RiskAlert>> Alerts(CancellationToken cancellationToken) =>
        (await GetAsync<AlertsBody>("/api/alerts?limit=1000", cancellationToken)).Alerts;

    public async Task<IReadOnlyList<StuckOrder>> Stuck(OrderStatus status, CancellationToken cancellationToken) =>
        (await GetAsync<StuckBody>($"/api/stats/stuck?status={status.ToString().ToLowerInvariant()}&olderThan=PT0S&limit=1000", cancellationToken)).Orders;

    public async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await GetAnsweredAsync(path, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    /// <summary>GET <paramref name="path"/>, asked again after a 503's Retry-After a few times, as a client does.</summary>
    private async Task<HttpResponseMessage> GetAnsweredAsync(string path, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await http.GetAsync(path, cancellationToken);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == StatsReaders.Attempts)
            {
                return response;
            }

            var pause = response.Headers.RetryAfter?.Delta ?? StatsReaders.Pause(attempt);
            response.Dispose();
            await Task.Delay(pause, cancellationToken);
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET {response.RequestMessage?.RequestUri?.PathAndQuery}: expected 200, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonSerializer.Deserialize<T>(body, StatsCheck.Json)
            ?? throw new InvalidDataException($"GET {response.RequestMessage?.RequestUri?.PathAndQuery} answered null.");
    }

    private sealed record ProductsBody(IReadOnlyList<ProductSales> Products);

    private sealed record AlertsBody(IReadOnlyList<RiskAlert> Alerts);

    private sealed record StuckBody(IReadOnlyList<StuckOrder> Orders);
}

/// <summary>How the readers treat storage that did not answer in time.</summary>
internal static class StatsReaders
{
    public const int Attempts = 5;

    public static TimeSpan Pause(int attempt) => TimeSpan.FromMilliseconds(500 * attempt);
}
