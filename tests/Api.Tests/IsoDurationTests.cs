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
    [InlineData("P13M", (365 + 30) * TimeSpan.TicksPerDay)] // twelve months are a year, as XmlConvert counted them
    [InlineData("P1.5M", 45 * TimeSpan.TicksPerDay)]
    [InlineData("P1Y2M3DT4H5M6.5S", ((365 + 60 + 3) * TimeSpan.TicksPerDay) + (4 * TimeSpan.TicksPerHour) + (5 * TimeSpan.TicksPerMinute) + 65_000_000L)]
    [InlineData("P007D", 7 * TimeSpan.TicksPerDay)]
    [InlineData("P00000000000000000001D", TimeSpan.TicksPerDay)] // leading zeros are not digits that count
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

    /// <summary>
    /// What XmlConvert read before (whole years, months, days, hours and minutes, seconds with a
    /// fraction of up to 7 digits) is read alike.
    /// </summary>
    [Fact]
    public void Durations_that_XmlConvert_read_are_read_alike()
    {
        var component = Gen.Select(Gen.Bool, Gen.Int[0, 400]);
        var seconds = Gen.Select(Gen.Bool, Gen.Int[0, 100], Gen.Int[1, 7], Gen.Int[0, 9_999_999]);
        Gen.Select(component, component, component, component, component, seconds).Sample((years, months, days, hours, minutes, second) =>
        {
            var date = Part(years, "Y") + Part(months, "M") + Part(days, "D");
            var fraction = second.Item4.ToString("D7", System.Globalization.CultureInfo.InvariantCulture)[..second.Item3];
            var time = Part(hours, "H") + Part(minutes, "M") + (second.Item1 ? $"{second.Item2}.{fraction}S" : "");
            var text = "P" + (date.Length == 0 && time.Length == 0 ? "0D" : date) + (time.Length > 0 ? "T" + time : "");
            return IsoDurations.TryParse(text, out var duration) && duration == XmlConvert.ToTimeSpan(text);
        }, iter: 5_000);
    }

    private static string Part((bool Present, int Value) component, string designator) =>
        component.Present ? component.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) + designator : "";
}
