namespace OrderFlow.Api.Json;

/// <summary>
/// ISO 8601 durations as a query value takes them: <c>PnW</c>, or <c>P[nY][nM][nD][T[nH][nM][nS]]</c>
/// with at least one component, each a whole number, the last of which may have a fraction (after
/// '.' or ','): <c>PT2H</c>, <c>P1W</c>, <c>P0.5D</c>, <c>PT1,5H</c>. No sign, no white space, designators
/// in capitals. A year is 365 days, twelve months a year and a month otherwise 30 days, as <see cref="System.Xml.XmlConvert.ToTimeSpan"/>
/// (which this replaced: it knows no weeks, and fractions of seconds only) reads them: a duration here
/// is an age, not a step in a calendar.
/// </summary>
public static class IsoDurations
{
    /// <summary>Digits a component's whole part may have, leading zeros aside: far beyond any <see cref="TimeSpan"/>, and within decimal arithmetic.</summary>
    private const int MaxWholeDigits = 12;

    /// <summary>Digits of a fraction that count.</summary>
    private const int MaxFractionDigits = 15;

    private static readonly (char Designator, long Ticks)[] DateParts =
        [('Y', 365 * TimeSpan.TicksPerDay), ('M', 30 * TimeSpan.TicksPerDay), ('D', TimeSpan.TicksPerDay)];

    private static readonly (char Designator, long Ticks)[] TimeParts =
        [('H', TimeSpan.TicksPerHour), ('M', TimeSpan.TicksPerMinute), ('S', TimeSpan.TicksPerSecond)];

    /// <summary>Reads <paramref name="text"/>; false when it is not such a duration or exceeds <see cref="TimeSpan.MaxValue"/>. A fraction of a tick is dropped.</summary>
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var rest = text.AsSpan();
        if (rest.Length < 3 || rest[0] != 'P')
        {
            return false;
        }

        rest = rest[1..];
        decimal ticks;
        if (rest[^1] == 'W')
        {
            // Weeks stand alone (ISO 8601:2004).
            if (!TryComponent(ref rest, out var weeks, out _) || rest.Length != 1)
            {
                return false;
            }

            ticks = weeks * 7 * TimeSpan.TicksPerDay;
        }
        else
        {
            ticks = 0m;
            var components = 0;
            var fractionSeen = false;
            var timeIndex = rest.IndexOf('T');
            var datePart = timeIndex < 0 ? rest : rest[..timeIndex];
            var timePart = timeIndex < 0 ? [] : rest[(timeIndex + 1)..];
            if ((timeIndex >= 0 && timePart.IsEmpty)
                || !TryParts(datePart, DateParts, ref ticks, ref components, ref fractionSeen)
                || !TryParts(timePart, TimeParts, ref ticks, ref components, ref fractionSeen)
                || components == 0)
            {
                return false;
            }
        }

        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)decimal.Truncate(ticks));
        return true;
    }

    /// <summary>Reads the components of one part in their designators' order, each at most once; only the last of the whole duration may have a fraction.</summary>
    private static bool TryParts(ReadOnlySpan<char> part, (char Designator, long Ticks)[] units, ref decimal ticks, ref int components, ref bool fractionSeen)
    {
        var next = 0;
        while (!part.IsEmpty)
        {
            if (fractionSeen || !TryComponent(ref part, out var value, out var hasFraction))
            {
                return false;
            }

            while (next < units.Length && units[next].Designator != part[0])
            {
                next++;
            }

            if (next == units.Length)
            {
                return false; // unknown, repeated or out of order
            }

            ticks += ReferenceEquals(units, DateParts) && units[next].Designator == 'M' ? MonthTicks(value) : value * units[next].Ticks;
            part = part[1..];
            next++;
            components++;
            fractionSeen = hasFraction;
        }

        return true;
    }

    /// <summary>Months as XmlConvert counts them: every twelve a year of 365 days, the rest (and a fraction) 30 days each.</summary>
    private static decimal MonthTicks(decimal months)
    {
        var whole = decimal.Truncate(months);
        var days = (decimal.Truncate(whole / 12) * 365) + (whole % 12 * 30) + ((months - whole) * 30);
        return days * TimeSpan.TicksPerDay;
    }

    /// <summary>Reads a number (digits, then optionally '.' or ',' and digits) and leaves <paramref name="rest"/> at the character after it, which must exist.</summary>
    private static bool TryComponent(ref ReadOnlySpan<char> rest, out decimal value, out bool hasFraction)
    {
        value = 0m;
        hasFraction = false;
        var i = 0;
        var significant = 0; // leading zeros are not
        while (i < rest.Length && char.IsAsciiDigit(rest[i]))
        {
            if (significant > 0 || rest[i] != '0')
            {
                if (++significant > MaxWholeDigits)
                {
                    return false;
                }

                value = (value * 10) + (rest[i] - '0');
            }

            i++;
        }

        if (i == 0)
        {
            return false;
        }

        if (i < rest.Length && rest[i] is '.' or ',')
        {
            hasFraction = true;
            var scale = 1m;
            var start = ++i;
            while (i < rest.Length && char.IsAsciiDigit(rest[i]))
            {
                // Beyond the 15th digit, a digit of a fraction of the longest unit (a year) is worth less than a tick: read, not summed.
                if (i - start < MaxFractionDigits)
                {
                    scale /= 10;
                    value += (rest[i] - '0') * scale;
                }

                i++;
            }

            if (i == start)
            {
                return false;
            }
        }

        rest = rest[i..];
        return !rest.IsEmpty;
    }
}
