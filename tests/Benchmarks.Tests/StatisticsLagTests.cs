using OrderFlow.Benchmarks;

namespace OrderFlow.Benchmarks.Tests;

/// <summary>The lag probe's arithmetic: answers matched to the first poll that counted them, first in, first counted.</summary>
public sealed class StatisticsLagTests
{
    [Fact]
    public async Task Each_answer_is_seen_by_the_first_poll_that_counts_it_and_every_poll_is_timed()
    {
        var counted = 0L;
        var polls = 0;
        var lag = new StatisticsLag();

        var result = await lag.MeasureAsync(
            async () =>
            {
                polls++;
                await Task.Yield();
                return Interlocked.Read(ref counted);
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
        Assert.All(result.PollMs, ms => Assert.True(ms >= 0));
        Assert.All(result.LagMs, ms => Assert.True(ms >= 0 && ms < 30_000));
        Assert.True(result.PollPercentile(99) >= result.PollPercentile(50));
    }
}
