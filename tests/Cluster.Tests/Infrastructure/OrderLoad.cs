using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace OrderFlow.Cluster.Tests.Infrastructure;

/// <summary>One HTTP answer (or a transport failure, status 0) and how long it took.</summary>
public sealed record Answer(string OrderId, string Command, int Status, TimeSpan Elapsed, string? Problem);

/// <summary>
/// A bounded load of order lifecycles over HTTP with a fixed number in flight, as README tells a
/// client to behave: every command carries an Idempotency-Key and is retried with the same key
/// on 503 (after its Retry-After, capped). Every answer is recorded with its duration.
/// </summary>
public sealed class OrderLoad(LocalCluster cluster, string run, DateTimeOffset day)
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);

    private readonly ConcurrentQueue<Answer> answers = new();
    private readonly ConcurrentBag<PlannedOrder> orders = [];
    private int nextIndex;
    private int acknowledged;

    public IReadOnlyCollection<Answer> Answers => answers;

    public LocalCluster Cluster => cluster;

    public IReadOnlyCollection<PlannedOrder> Orders => orders;

    public int Acknowledged => Volatile.Read(ref acknowledged);

    /// <summary>
    /// Sends up to <paramref name="maxOrders"/> orders, <paramref name="concurrency"/> at a time, until
    /// <paramref name="stop"/> is cancelled (orders begun are finished).
    /// </summary>
    public async Task RunAsync(int maxOrders, int concurrency, CancellationToken stop)
    {
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var index = Interlocked.Increment(ref nextIndex);
                if (index > maxOrders)
                {
                    return;
                }

                var order = new PlannedOrder(run, index, day);
                orders.Add(order);
                foreach (var command in order.Commands)
                {
                    if (!await SendAsync(order, command))
                    {
                        break;
                    }
                }
            }
        }));
    }

    private async Task<bool> SendAsync(PlannedOrder order, PlannedCommand command)
    {
        var key = $"{order.OrderId}-{command.Name}";
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, command.Path) { Content = JsonContent.Create(command.Body) };
            request.Headers.Add("Idempotency-Key", key);
            var watch = Stopwatch.StartNew();
            HttpResponseMessage? response = null;
            try
            {
                response = await cluster.Http.SendAsync(request);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                answers.Enqueue(new Answer(order.OrderId, command.Name, 0, watch.Elapsed, e.Message));
                return false;
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                var body = response.IsSuccessStatusCode ? null : await response.Content.ReadAsStringAsync();
                answers.Enqueue(new Answer(order.OrderId, command.Name, status, watch.Elapsed, body));
                if (response.IsSuccessStatusCode)
                {
                    order.Acknowledge(command);
                    Interlocked.Increment(ref acknowledged);
                    return true;
                }

                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || deadline.Elapsed > GiveUpAfter)
                {
                    return false;
                }

                var retryAfter = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(retryAfter > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : retryAfter);
            }
        }
    }
}
