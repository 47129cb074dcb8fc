using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Api.Orders;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Statistics;
using OrderFlow.Statistics.Tests.Model;
using Xunit.Sdk;
using EventLog = OrderFlow.Statistics.Tests.Model.EventLog;

namespace OrderFlow.Cluster.Tests.Infrastructure;

/// <summary>What a load must show after a silo died or restarted under it (issue 10).</summary>
public static class LoadChecks
{
    /// <summary>The issue's bound: a request whose grain was on a dead silo answers within 10 s.</summary>
    public static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(10);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>No 5xx but 503, no answer over 10 s, every order's lifecycle acknowledged in full.</summary>
    public static void AssertAnswers(OrderLoad load)
    {
        var answers = load.Answers.ToList();
        Assert.NotEmpty(answers);
        var failures = answers.Where(a => a.Status is 0 or >= 500 && a.Status != 503).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} answers were neither a success nor a 503 (nor 4xx):\n  "
            + string.Join("\n  ", failures.Take(10).Select(Describe)) + "\nThe errors the cluster logged last:\n" + load.Cluster.LoggedErrors());
        var slow = answers.Where(a => a.Elapsed > AnswerBound).ToList();
        Assert.True(slow.Count == 0, $"{slow.Count} answers took over {AnswerBound.TotalSeconds:0} s:\n  " + string.Join("\n  ", slow.Take(10).Select(Describe)));
        var refused = answers.Where(a => a.Status is >= 400 and < 500).ToList();
        Assert.True(refused.Count == 0, $"{refused.Count} commands were refused:\n  " + string.Join("\n  ", refused.Take(10).Select(Describe)));
        var incomplete = load.Orders.Where(o => o.Acknowledged.Count != o.Commands.Count).ToList();
        Assert.True(incomplete.Count == 0, $"{incomplete.Count} orders did not get every command acknowledged (503 for {90} s?): "
            + string.Join(", ", incomplete.Take(10).Select(o => $"{o.OrderId} ({o.Acknowledged.Count})")));
    }

    /// <summary>
    /// Every acknowledged command's event is in the order's log exactly once, in order, and nothing
    /// else is: as the API reads it back, and as stored, with what the statistics count of it
    /// (customer, currency, lines, amounts, times).
    /// </summary>
    public static async Task AssertLogHoldsExactlyTheAcknowledgedAsync(LocalCluster cluster, OrderLoad load, CancellationToken cancellationToken)
    {
        var problems = new ConcurrentBag<string>();
        var stored = await EventLog.ReadAsync(LogStore(cluster), cancellationToken);
        foreach (var order in load.Orders)
        {
            var want = order.Acknowledged.Select(c => Describe(c.Event)).ToList();
            var got = Facts.FromLog(stored.GetValueOrDefault(order.OrderId) ?? []).Select(Describe).ToList();
            if (!want.SequenceEqual(got))
            {
                problems.Add($"{order.OrderId}: acknowledged [{string.Join("; ", want)}], stored [{string.Join("; ", got)}]");
            }
        }

        await Parallel.ForEachAsync(load.Orders, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (order, ct) =>
        {
            using var response = await cluster.Http.GetAsync($"/api/orders/{order.OrderId}/events?limit=1000", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                problems.Add($"{order.OrderId}: GET events answered {(int)response.StatusCode} {body}");
                return;
            }

            var events = JsonSerializer.Deserialize<EventPageResponse>(body, Json)!.Events;
            var want = order.Acknowledged.Select(c => c.EventType).ToList();
            var got = events.Select(e => e.Type).ToList();
            if (!want.SequenceEqual(got)
                || !events.Select(e => e.Version).SequenceEqual(Enumerable.Range(1, events.Count))
                || events.Select(e => e.EventId).Distinct().Count() != events.Count
                || !events.Select(e => e.OccurredAt).SequenceEqual(order.Acknowledged.Select(c => c.Event.At)))
            {
                problems.Add($"{order.OrderId}: acknowledged [{string.Join(", ", want)}], the log holds "
                    + string.Join(", ", events.Select(e => $"v{e.Version} {e.Type} at {e.OccurredAt:O}")));
            }
        });
        Assert.True(problems.IsEmpty, $"{problems.Count} orders' logs differ from what was acknowledged:\n  " + string.Join("\n  ", problems.Take(10)));
    }

    /// <summary>
    /// Polls until every statistic equals the test's fold over the event log, every order any test
    /// sent to the cluster (compared at least once, however short the timeout). The log, not what
    /// was acknowledged: a command whose answer was lost in an earlier test may have landed, and the
    /// statistics rightly count it. <see cref="AssertLogHoldsExactlyTheAcknowledgedAsync"/> holds
    /// each load's log to what was acknowledged.
    /// </summary>
    /// <remarks>
    /// A failure says first whether the statistics were late or wrong: it goes on polling for
    /// <see cref="AfterTheBound"/>, within which the regular reconciliation counts from the log what
    /// the streams did not deliver, and says when they equalled the fold, or that they still did not.
    /// </remarks>
    public static async Task<Convergence> AssertStatisticsConvergeAsync(LocalCluster cluster, DateTimeOffset day, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The read counts against the timeout: the statistics go on converging meanwhile.
        var reading = Stopwatch.StartNew();
        var expected = await EventLog.ExpectedAsync(LogStore(cluster), cancellationToken);
        timeout -= reading.Elapsed;
        var plan = new CheckPlan([(null, null), (day, day.AddDays(1))], [(day, day.AddDays(2), StatsInterval.Hour)], [5]);
        var reader = new HttpStatsReader(cluster.Http);
        try
        {
            return await StatsCheck.AssertConvergesAsync(reader, expected, plan, timeout, cancellationToken, diagnostics: () => cluster.Output());
        }
        catch (FailException failed)
        {
            var after = Stopwatch.StartNew();
            string outcome;
            try
            {
                await StatsCheck.AssertConvergesAsync(reader, expected, plan, AfterTheBound, cancellationToken);
                outcome = string.Create(CultureInfo.InvariantCulture, $"The statistics were late, not lost: they equalled the fold {after.Elapsed.TotalSeconds:0} s after the bound.");
            }
            catch (FailException still)
            {
                outcome = string.Create(CultureInfo.InvariantCulture,
                    $"The statistics were not only late: {after.Elapsed.TotalSeconds:0} s after the bound they still differed ({still.Message.Split('\n')[0]})");
            }

            throw FailException.ForFailure($"{outcome}\n{failed.Message}");
        }
    }

    /// <summary>How long a failed convergence goes on being polled: the regular reconciliation's settling time and interval, and its pass.</summary>
    private static readonly TimeSpan AfterTheBound = TimeSpan.FromSeconds(150);

    public static string Summary(OrderLoad load)
    {
        var answers = load.Answers.ToList();
        var unavailable = answers.Count(a => a.Status == 503);
        var slowest = answers.Max(a => a.Elapsed);
        return string.Create(CultureInfo.InvariantCulture,
            $"{load.Orders.Count} orders, {load.Acknowledged} commands acknowledged, {answers.Count} answers ({unavailable} × 503), slowest {slowest.TotalSeconds:0.00} s");
    }

    /// <summary>The cluster's event log, read by a store of the test's own.</summary>
    private static TableEventStore LogStore(LocalCluster cluster) =>
        new(new TableServiceClient(cluster.StorageConnection), Options.Create(new EventStoreOptions()), TimeProvider.System, NullLogger<TableEventStore>.Instance);

    private static string Describe(TestEvent e) => string.Create(CultureInfo.InvariantCulture,
        $"{e.Kind} at {e.At:O} {e.Amount:0.##########} {e.CustomerId} {e.Currency} [{string.Join(", ", (e.Lines ?? []).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Quantity} × {l.Sku} at {l.UnitPrice:0.##########}")))}]");

    private static string Describe(Answer a) =>
        string.Create(CultureInfo.InvariantCulture, $"{a.OrderId} {a.Command}: {a.Status} after {a.Elapsed.TotalSeconds:0.00} s {a.Problem}");
}
