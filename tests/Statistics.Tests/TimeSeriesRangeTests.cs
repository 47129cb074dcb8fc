using System.Globalization;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Issue 9: a range of any alignment is answered with buckets aligned to the interval (UTC); a
/// partial first or last bucket is marked and counts exactly the minutes of the range it covers.
/// Compared with the test's own fold (Model/Expected), on a host of its own so that no other
/// test's orders are counted.
/// </summary>
public sealed class TimeSeriesRangeTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_range_of_any_alignment_gives_aligned_buckets_whose_partial_edges_count_the_covered_minutes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct);
        var random = new Random(9);
        var anchor = TestClock.Day0.AddDays(-10).AddHours(-6); // 18:00 UTC: the orders cross a midnight
        var skus = Enumerable.Range(1, 5).Select(i => string.Create(CultureInfo.InvariantCulture, $"SKU-{i}")).ToList();
        var generator = new ScenarioGenerator(random, skus);
        var plans = Enumerable.Range(1, 150).Select(i => generator.Order(
            string.Create(CultureInfo.InvariantCulture, $"r-{i:D3}"), string.Create(CultureInfo.InvariantCulture, $"c-{i % 15}"),
            i % 3 == 0 ? "USD" : "EUR", generator.AnyLifecycle(), generator.RandomTime(anchor, TimeSpan.FromHours(12)))).ToList();
        await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (plan, token) => await host.SendAsync(plan, token));
        var expected = new Expected(plans.SelectMany(p => p.Facts()));

        DateTimeOffset Any(TimeSpan within) => anchor.AddMilliseconds(random.NextInt64(0, (long)within.TotalMilliseconds));
        var series = new List<(DateTimeOffset, DateTimeOffset, StatsInterval)>
        {
            (anchor.AddHours(2).AddMinutes(17).AddSeconds(42.5), anchor.AddHours(9).AddMinutes(3).AddSeconds(1), StatsInterval.Hour),
            (anchor.AddHours(1).AddMinutes(30), anchor.AddHours(20).AddSeconds(0.001), StatsInterval.Day), // partial at both ends, across midnight
            (anchor.AddHours(3).AddMinutes(5).AddSeconds(30), anchor.AddHours(3).AddMinutes(55), StatsInterval.Hour), // inside one hour
            (anchor.AddHours(4).AddSeconds(10), anchor.AddHours(4).AddSeconds(50), StatsInterval.Minute), // no minute starts inside
            (anchor.AddHours(5).AddSeconds(10), anchor.AddHours(5).AddSeconds(10), StatsInterval.Hour), // empty
        };
        foreach (var interval in new[] { StatsInterval.Minute, StatsInterval.Hour, StatsInterval.Day })
        {
            for (var i = 0; i < 4; i++)
            {
                var from = Any(TimeSpan.FromHours(14));
                var span = interval == StatsInterval.Minute ? TimeSpan.FromHours(3) : TimeSpan.FromHours(30);
                series.Add((from, from.AddMilliseconds(random.NextInt64(0, (long)span.TotalMilliseconds)), interval));
            }
        }

        var summaries = new List<(DateTimeOffset?, DateTimeOffset?)>
        {
            (anchor.AddHours(2).AddMinutes(17).AddSeconds(42.5), anchor.AddHours(9).AddMinutes(3).AddSeconds(1)),
            (anchor.AddHours(6).AddSeconds(0.25), null),
            (null, anchor.AddHours(7).AddMinutes(59).AddSeconds(59.999)),
        };
        for (var i = 0; i < 4; i++)
        {
            var from = Any(TimeSpan.FromHours(14));
            summaries.Add((from, from.AddMilliseconds(random.NextInt64(0, (long)TimeSpan.FromHours(10).TotalMilliseconds))));
        }

        // The comparison can fail: some partial edge of these ranges counts other figures than its whole bucket would.
        Assert.Contains(series, range =>
        {
            var (from, to, interval) = range;
            return expected.TimeSeries(from, to, interval).Any(bucket => bucket.Partial
                && expected.TimeSeries(bucket.Start, bucket.Start + Expected.Step(interval), interval)[0] with { Partial = true, From = bucket.From, To = bucket.To } != bucket);
        });

        await StatsCheck.AssertConvergesAsync(host.Reader, expected, new CheckPlan(summaries, series, [10]), TimeSpan.FromSeconds(45), ct);

        // Spelled out for one range: 02:17:42.5 to 09:03:01 by the hour is 20:00 (partial from 20:18) to 03:00 (partial to 03:04).
        var (first, last, _) = series[0];
        var report = await host.Reader.TimeSeries(first, last, StatsInterval.Hour, ct);
        Assert.Equal(anchor.AddHours(2).AddMinutes(18), report.From);
        Assert.Equal(anchor.AddHours(9).AddMinutes(4), report.To);
        Assert.Equal(8, report.Buckets.Count);
        Assert.Equal(Enumerable.Range(2, 8).Select(h => anchor.AddHours(h)), report.Buckets.Select(b => b.Start));
        Assert.Equal([true, false, false, false, false, false, false, true], report.Buckets.Select(b => b.Partial));
        Assert.Equal((anchor.AddHours(2).AddMinutes(18), anchor.AddHours(3)), (report.Buckets[0].From, report.Buckets[0].To));
        Assert.Equal((anchor.AddHours(9), anchor.AddHours(9).AddMinutes(4)), (report.Buckets[^1].From, report.Buckets[^1].To));
        Assert.All(report.Buckets.Skip(1).SkipLast(1), b => Assert.Equal((b.Start, b.Start.AddHours(1)), (b.From, b.To)));
    }
}
