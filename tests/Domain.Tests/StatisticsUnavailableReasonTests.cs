using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Projections;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// The 503 that statistics answer while a build cannot read their layout says which change caused
/// it: an older layout is an upgrade's, a later one a rollback's (every case said "an upgrade").
/// </summary>
public sealed class StatisticsUnavailableReasonTests
{
    private const int Current = 7;

    [Theory]
    [InlineData(RebuildState.Running, "are being rebuilt from the event log after {0} changed how they are stored: rebuild r-1, 42 events so far")]
    [InlineData(RebuildState.Failed, "recomputes statistics after {0} changed how they are stored failed (rebuild r-1: boom)")]
    [InlineData(RebuildState.Completed, "a layout this build does not read ({0} changed it)")]
    public void An_older_layout_is_an_upgrade_and_a_later_one_a_rollback(RebuildState rebuild, string expected)
    {
        foreach (var (schema, change) in new[] { (Current - 1, "an upgrade"), (0, "an upgrade"), (Current + 1, "a rollback to an earlier build") })
        {
            var state = new ProjectionsState
            {
                ActiveSchema = schema,
                Rebuilds = [new RebuildStatus("r-1", rebuild, 42, DateTimeOffset.UnixEpoch, null, 2, rebuild == RebuildState.Failed ? "boom" : null)],
            };

            var reason = ProjectionControlGrain.UnavailableReason(state, Current);

            Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, change), reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Without_a_rebuild_it_says_how_to_start_one()
    {
        var reason = ProjectionControlGrain.UnavailableReason(new ProjectionsState { ActiveSchema = Current + 1 }, Current);

        Assert.Equal(
            "Statistics are stored in a layout this build does not read (a rollback to an earlier build changed it). Start a rebuild with POST /api/admin/projections/rebuild.",
            reason);
    }
}
