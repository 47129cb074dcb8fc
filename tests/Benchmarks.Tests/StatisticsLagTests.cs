using OrderFlow.Benchmarks;

namespace OrderFlow.Benchmarks.Tests;

/// <summary>The lag probe: every answer counted by a poll, every poll timed.</summary>
public sealed class StatisticsLagTests
{
    [Fact]
    public async Task Every_answer_is_counted_and_every_poll_is_timed_from_asking_to_its_answer()
    {
        var counted = 0L;
        var polls = 0;
        var lag = new StatisticsLag();

        var result = await lag.MeasureAsync(
            async () =>
            {
                polls++;
                var count = Interlocked.Read(ref counted);
                await Task.Delay(20, TestContext.Current.CancellationToken); // a poll that takes at least 20 ms
                return count;
            },
            probe =>
            {
                for (var i = 0; i < 3; i++)
                {
                    probe.Answered();
                    Interlocked.Increment(ref counted); // counted as soon as answered
                }

                return Task.CompletedTask;
            },
            TimeSpan.FromSeconds(30));

        Assert.Equal(3, result.AnsweredAt.Length);
        Assert.Equal(0, result.Unseen);
        Assert.Equal(result.Polls, result.PollMs.Length);
        Assert.True(result.Polls >= 1 && result.Polls == polls - 1, $"{result.Polls} timed polls of {polls} (the first, before the load, sets the starting count)");
        Assert.All(result.PollMs, ms => Assert.True(ms >= 15, $"a poll timed {ms} ms"));
        Assert.All(result.LagMs, ms => Assert.True(ms >= 0 && ms < 30_000));
        Assert.True(result.PollPercentile(99) >= result.PollPercentile(50));
    }
}
