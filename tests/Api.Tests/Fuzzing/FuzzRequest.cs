using System.Text;

namespace OrderFlow.Api.Tests.Fuzzing;

/// <summary>One generated HTTP request: sent as built, printed when it breaks a rule.</summary>
/// <param name="Target">Path and query exactly as sent on the request line (no canonicalisation).</param>
/// <param name="Key">The X-Api-Key header's value, or null for none.</param>
/// <param name="Headers">Further headers, sent without validation (repeats allowed).</param>
/// <param name="Body">The body's bytes, or null for none.</param>
public sealed record FuzzRequest(
    string Method,
    string Target,
    string? Key,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body,
    string? ContentType,
    bool Chunked)
{
    public override string ToString()
    {
        var text = new StringBuilder().Append(Method).Append(' ').Append(Escape(Target));
        text.Append(Key is null ? " (no key)" : $" (key {Key})");
        foreach (var (name, value) in Headers)
        {
            text.Append(" [").Append(name).Append(": ").Append(Escape(value)).Append(']');
        }

        if (ContentType is not null)
        {
            text.Append(" [Content-Type: ").Append(Escape(ContentType)).Append(']');
        }

        if (Body is not null)
        {
            var shown = Body.Length > 400 ? Body[..400] : Body;
            text.Append(Chunked ? " chunked" : string.Empty).Append(" body(").Append(Body.Length).Append(" bytes): ")
                .Append(Escape(Encoding.UTF8.GetString(shown)));
        }

        return text.ToString();
    }

    /// <summary>Control and non-ASCII characters as \uXXXX, so a failing case can be read and pasted.</summary>
    private static string Escape(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }
}
