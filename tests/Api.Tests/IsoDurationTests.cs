using System.Xml;
using CsCheck;
using OrderFlow.Api.Json;

namespace OrderFlow.Api.Tests;

/// <summary>The ISO 8601 durations of query values (<see cref="IsoDurations"/>).</summary>
public sealed class IsoDurationTests
{
    [Theory]
    [InlineData("PT0S", 0L)]
    [InlineData("PT2H", 2 * TimeSpan.TicksPerHour)]
    [InlineData("P1D", TimeSpan.TicksPerDay)]
    [InlineData("P1W", 7 * TimeSpan.TicksPerDay)]
    [InlineData("P1.5W", 21 * TimeSpan.TicksPerHour * 12)]
    [InlineData("P0.5D", 12 * TimeSpan.TicksPerHour)]
    [InlineData("PT1,5H", 90 * TimeSpan.TicksPerMinute)]
    [InlineData("PT1.5S", 15_000_000L)]
    [InlineData("PT0.00000019S", 1L)] // below a tick: dropped
    [InlineData("P1Y", 365 * TimeSpan.TicksPerDay)]
    [InlineData("P1M", 30 * TimeSpan.TicksPerDay)]
    [InlineData("PT1M", TimeSpan.TicksPerMinute)]
    [InlineData("P1Y2M3DT4H5M6.5S", ((365 + 60 + 3) * TimeSpan.TicksPerDay) + (4 * TimeSpan.TicksPerHour) + (5 * TimeSpan.TicksPerMinute) + 65_000_000L)]
    [InlineData("P007D", 7 * TimeSpan.TicksPerDay)]
    public void Durations_are_read(string text, long ticks)
    {
        Assert.True(IsoDurations.TryParse(text, out var duration), text);
        Assert.Equal(ticks, duration.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("P1DT")]
    [InlineData("PT1D")] // days in the time part
    [InlineData("P1H")] // hours in the date part
    [InlineData("P1.5DT1H")] // a fraction on a component that is not the last
    [InlineData("P1.5Y2D")]
    [InlineData("P1W1D")] // weeks stand alone
    [InlineData("P1D1Y")] // out of order
    [InlineData("PT1M1H")]
    [InlineData("P1Y1Y")] // repeated
    [InlineData("P-1D")]
    [InlineData("-P1D")]
    [InlineData("+P1D")]
    [InlineData(" P1D")]
    [InlineData("P1D ")]
    [InlineData("p1d")]
    [InlineData("P1.D")]
    [InlineData("P.5D")]
    [InlineData("P1,5.5D")]
    [InlineData("P1e3D")]
    [InlineData("P\u0661D")] // an Arabic-Indic digit
    [InlineData("P1D\0")]
    [InlineData("P1234567890123D")] // more digits than any duration needs
    [InlineData("P99999999999D")] // past TimeSpan.MaxValue
    [InlineData("P99999999999999999999999999999999999999D")] // once a decimal overflow
    [InlineData("PW")]
    [InlineData("P1")]
    [InlineData("1D")]
    public void Anything_else_is_refused(string text)
    {
        Assert.False(IsoDurations.TryParse(text, out _), text);
    }

    /// <summary>What XmlConvert read before (whole components, a fraction of seconds) is read the same.</summary>
    [Fact]
    public void Durations_that_XmlConvert_read_are_read_alike()
    {
        Gen.Select(Gen.Int[0, 400], Gen.Int[0, 30], Gen.Int[0, 100], Gen.Int[0, 100], Gen.Int[0, 100], Gen.Int[0, 9_999_999]).Sample((days, hours, minutes, seconds, mask, fraction) =>
        {
            var date = (mask & 1) != 0 || (mask & 14) == 0 ? $"{days}D" : "";
            var time = ((mask & 2) != 0 ? $"{hours}H" : "") + ((mask & 4) != 0 ? $"{minutes}M" : "") + ((mask & 8) != 0 ? $"{seconds}.{fraction:D7}S" : "");
            var text = "P" + date + (time.Length > 0 ? "T" + time : "");
            return IsoDurations.TryParse(text, out var duration) && duration == XmlConvert.ToTimeSpan(text);
        }, iter: 5_000);
    }
}
