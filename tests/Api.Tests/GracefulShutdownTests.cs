using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Stopping the host (SIGTERM) while requests are in flight: Kestrel stops taking new ones, every
/// request it has taken is answered (its grain calls still work), and only then does the co-hosted
/// silo stop.
/// </summary>
public sealed class GracefulShutdownTests
{
    private const int InFlightCommands = 6;

    [Fact]
    public async Task Requests_in_flight_when_the_host_stops_are_all_answered()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "Suspends Azurite with SIGSTOP.");
        var ct = TestContext.Current.CancellationToken;
        await using var storage = await Azurite.StartNewAsync(cancellationToken: ct);
        var inFlight = new InFlightRequests();
        await using var host = await ApiHost.StartAsync(storage.ConnectionString, configure: builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["EventStore:OperationTimeout"] = "00:00:03" });
            builder.Services.AddSingleton<IStartupFilter>(inFlight);
        });

        var ids = Enumerable.Range(0, InFlightCommands).Select(_ => TestOrders.NewId()).ToList();
        foreach (var id in ids)
        {
            await host.PlaceAsync(id);
        }

        // Storage hangs, so each payment waits in its grain for the event log's deadline.
        var suspension = storage.Suspend();
        Task<HttpResponseMessage>[] payments;
        Task stopping;
        try
        {
            var placements = inFlight.Entered;
            payments = [.. ids.Select(id => host.Writer.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString()))];
            await inFlight.WaitForAsync(placements + InFlightCommands, TimeSpan.FromSeconds(30));

            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            stopping = host.StopAsync(stopTimeout.Token);

            // Every request taken before the stop gets a whole answer: a success or a 503 problem document.
            foreach (var payment in payments)
            {
                var response = await AnswerOf(payment);
                using (response)
                {
                    var body = await response.BodyAsync();
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable,
                        $"A request in flight at shutdown was answered {(int)response.StatusCode}: {body}");
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                    }
                }
            }
        }
        finally
        {
            suspension.Dispose();
        }

        // Storage answers again, so the silo can finish stopping (it flushes statistics).
        await stopping.WaitAsync(TimeSpan.FromSeconds(60), ct);
    }

    /// <summary>
    /// A request whose body is still arriving when the stop begins calls its grain only afterwards
    /// (a new order: a new activation). That call must still work, because the silo stops only once
    /// Kestrel has drained.
    /// </summary>
    [Fact]
    public async Task A_request_still_sending_its_body_when_the_host_stops_is_served_by_the_silo()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var storage = await Azurite.StartNewAsync(cancellationToken: ct);
        var inFlight = new InFlightRequests();
        await using var host = await ApiHost.StartAsync(storage.ConnectionString, configure: builder =>
        {
            builder.Services.AddSingleton<IStartupFilter>(inFlight);

            // Kestrel answers 408 to a body slower than 240 bytes/s once 5 s have passed: the pause
            // below, and the stop's start on a loaded machine, can add up to more.
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MinRequestBodyDataRate = null);
        });
        await host.PlaceAsync(TestOrders.NewId());

        var id = TestOrders.NewId();
        var body = TestOrders.PlaceBody(id).ToJsonString();
        var half = body.Length / 2;
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port, ct);
        var stream = client.GetStream();
        var before = inFlight.Entered;
        await Write($"POST /api/orders HTTP/1.1\r\nHost: {host.BaseAddress.Authority}\r\nX-Api-Key: {ApiHost.WriterKey}\r\n" +
            $"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{half:x}\r\n{body[..half]}\r\n");
        await inFlight.WaitForAsync(before + 1, TimeSpan.FromSeconds(30));

        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stopping = host.StopAsync(stopTimeout.Token);
        await WaitUntilRefusingConnectionsAsync(host.BaseAddress);

        // A slow client: whatever else is stopping has had time to get on with it.
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        await Write($"{body.Length - half:x}\r\n{body[half..]}\r\n0\r\n\r\n");
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        using (var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            readTimeout.CancelAfter(TimeSpan.FromSeconds(30));
            while ((read = await stream.ReadAsync(buffer, readTimeout.Token)) > 0)
            {
                answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }

        Assert.True(answer.ToString().StartsWith("HTTP/1.1 201", StringComparison.Ordinal), $"The placement sent during shutdown was answered:\n{answer}");
        Assert.Contains(id, answer.ToString(), StringComparison.Ordinal);
        await stopping.WaitAsync(TimeSpan.FromSeconds(60), ct);

        async Task Write(string text) => await stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
    }

    /// <summary>
    /// Issue 8: SIGTERM dropped a request in flight. A request can wait on a grain for Orleans'
    /// response timeout, and the host's shutdown deadline, at which Kestrel drops what it still
    /// holds, was no longer than that (30 s both), leaving nothing for the silo's own stop.
    /// </summary>
    [Fact]
    public async Task The_shutdown_deadline_outlasts_the_longest_request_and_leaves_time_for_the_silo()
    {
        var (args, settings) = ApiHost.Configuration("UseDevelopmentStorage=true", "Production", withKeys: true, Azurite.FreePort());
        await using var app = ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings));

        var host = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HostOptions>>().Value;
        var messaging = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.SiloMessagingOptions>>().Value;

        Assert.False(host.ServicesStopConcurrently, "Kestrel must drain before the silo stops.");
        Assert.True(host.ShutdownTimeout >= messaging.ResponseTimeout + TimeSpan.FromSeconds(10),
            $"Shutdown deadline {host.ShutdownTimeout} against a grain response timeout of {messaging.ResponseTimeout}.");
    }

    /// <summary>
    /// Operations review: on SIGTERM Kestrel stopped taking connections at once, while a platform's
    /// load balancer goes on routing to a stopping replica for a few seconds (Container Apps has no
    /// pre-stop hook): those requests met a closed port. For Api:ShutdownDrain the API answers
    /// not ready and goes on serving, commands included; then the stop goes on (here cut short by
    /// the stop's own deadline, as a second signal would).
    /// </summary>
    [Fact]
    public async Task For_its_drain_after_a_stop_begins_the_API_answers_not_ready_and_still_serves_commands()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var storage = await Azurite.StartNewAsync(cancellationToken: ct);
        await using var host = await ApiHost.StartAsync(storage.ConnectionString, configure: builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [Operations.ShutdownDrain.Setting] = "00:02:00" }));
        var id = TestOrders.NewId();
        await host.PlaceAsync(id);

        using var endOfStop = new CancellationTokenSource();
        var stopping = host.SignalStopAsync(endOfStop.Token);
        try
        {
            // The stop begins on its own schedule: readiness turns, and the port stays open meanwhile.
            string health;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                using var ready = await host.Anonymous.GetAsync("/health/ready");
                health = await ready.BodyAsync();
                if (ready.StatusCode == HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(50, ct);
            }

            Assert.Contains("\"shutdown\":{\"status\":\"Unhealthy\"", health, StringComparison.Ordinal);

            var paid = await host.PayAsync(id);
            Assert.Equal("paid", paid.Str("status"));
            Assert.False(stopping.IsCompleted);
        }
        finally
        {
            await endOfStop.CancelAsync();
            await Record.ExceptionAsync(() => stopping.WaitAsync(TimeSpan.FromSeconds(60), ct));
        }
    }

    /// <summary>
    /// Review finding: a second stop that began while the first was draining (the host runs
    /// StoppingAsync at each of its stops) went on at once, closing the port mid-drain. It waits
    /// for the same drain, and each stop's own deadline still cuts its wait short.
    /// </summary>
    [Fact]
    public async Task A_second_stop_during_the_drain_waits_for_the_same_drain()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var drain = new Operations.ShutdownDrain(TimeSpan.FromMinutes(2), time, Microsoft.Extensions.Logging.Abstractions.NullLogger<Operations.ShutdownDrain>.Instance);
        using var secondDeadline = new CancellationTokenSource();

        var first = drain.StoppingAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(1));
        var second = drain.StoppingAsync(CancellationToken.None);
        Assert.False(second.IsCompleted, "the second stop did not wait for the drain");

        // The drain began with the first stop: both end when it does, not two minutes after the second.
        time.Advance(TimeSpan.FromMinutes(1));
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30), ct);

        // And a stop's own deadline still cuts its wait short.
        var other = new Operations.ShutdownDrain(TimeSpan.FromMinutes(2), time, Microsoft.Extensions.Logging.Abstractions.NullLogger<Operations.ShutdownDrain>.Instance);
        var waiting = other.StoppingAsync(CancellationToken.None);
        var cutShort = other.StoppingAsync(secondDeadline.Token);
        await secondDeadline.CancelAsync();
        await cutShort.WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.False(waiting.IsCompleted, "one stop's deadline ended another's drain");
    }

    /// <summary>Kestrel's stop has begun once it no longer accepts connections.</summary>
    private static async Task WaitUntilRefusingConnectionsAsync(Uri server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(server.Host, server.Port, TestContext.Current.CancellationToken);
            }
            catch (System.Net.Sockets.SocketException)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "Kestrel still accepted connections 30 s after the stop began.");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private static async Task<HttpResponseMessage> AnswerOf(Task<HttpResponseMessage> request)
    {
        try
        {
            return await request;
        }
        catch (HttpRequestException exception)
        {
            Assert.Fail($"A request in flight at shutdown was dropped without an answer: {exception.Message}");
            throw;
        }
    }

    /// <summary>Counts POST requests that have entered the pipeline, so the test stops the host only once they are all in flight.</summary>
    private sealed class InFlightRequests : IStartupFilter
    {
        private int entered;

        public int Entered => Volatile.Read(ref entered);

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, following) =>
            {
                if (Microsoft.AspNetCore.Http.HttpMethods.IsPost(context.Request.Method))
                {
                    Interlocked.Increment(ref entered);
                }

                await following(context);
            });
            next(app);
        };

        /// <summary>Waits until <paramref name="count"/> requests in all have entered.</summary>
        public async Task WaitForAsync(int count, TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (Volatile.Read(ref entered) < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Only {Volatile.Read(ref entered)} of {count} requests reached the server within {within}.");
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
        }
    }
}
