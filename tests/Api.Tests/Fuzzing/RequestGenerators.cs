using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests.Fuzzing;

/// <summary>
/// Generators of hostile requests over every route. No generated request may change storage:
/// commands other than a placement go to orders that do not exist, every placement breaks at
/// least one rule, and a rebuild is asked for only by callers without the admin role.
/// </summary>
public static class RequestGenerators
{
    /// <summary>Strings no identifier, time, number or duration may be: control characters, bidi, emoji, path tricks, extremes.</summary>
    private static readonly string[] HostileStrings =
    [
        "", " ", "\n", "c\n", "c\r\n", "a\u0000b", "\t", "\u007f", "\u0085x", "\u202Eevil", "a\u200Bb", "\uFEFFbom",
        "😀", "é", "ℌ", "Ａ", "%00", "%2e%2e", "..", ".", "...", "a/b", "a\\b", "a#b", "a?b", "a%b", "a b", "~", "a'b", "a\"b",
        "<script>", "${x}", "{{x}}", "\uD800", "\uDFFF", "x\uD83D", new string('x', 65), new string('é', 64), new string('x', 3000),
    ];

    private static readonly string[] HostileTimes =
    [
        "9999-12-31T23:59:00Z", "9999-12-31T23:59:59.9999999Z", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00",
        "0001-01-01T00:00:00Z", "1600-12-31T23:59:00Z", "1601-01-01T00:00:00Z", "2026-11-25T10:00:00+01:00", "2026-11-25T10:00:00 01:00",
        "2026-11-25", "2026-02-30T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:00:00.123456789Z", "-0001-01-01T00:00:00Z",
        "10000-01-01T00:00:00Z", "2026-11-25T10:00Z", "20261125T100000Z", "now", "1e10", "2026-11-25T10:00:00+99:00",
    ];

    private static readonly string[] HostileNumbers =
    [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "99999999999999999999999", "1e2", "1.5", "0x10", " 1", "+1",
        "1,000", "NaN", "Infinity", "\u0663", "01", "1000", "1001", "10001",
    ];

    private static readonly string[] HostileDurations =
    [
        "PT2H", "P99999999D", "P740000D", "P10675199D", "P10675200D", "-PT1H", "PT-1H", "P1Y", "P1M", "PT0S", "P", "PT", "P1DT",
        "PT1.5H", "P0.5D", "PT99999999999999999999S", "P1W", "P9999Y", "-P99999999D", "garbage",
    ];

    private static Gen<string> OneOf(params string[][] pools) => Gen.OneOfConst([.. pools.SelectMany(p => p)]);

    /// <summary>A query value: hostile, or random text.</summary>
    private static readonly Gen<string> QueryValue = Gen.Frequency(
        (6, OneOf(HostileStrings, HostileTimes, HostileNumbers, HostileDurations)),
        (1, Gen.String[Gen.Char, 0, 40]));

    /// <summary>An order or customer id in a path: mostly hostile, sometimes a valid id that does not exist.</summary>
    private static readonly Gen<string> PathId = Gen.Frequency(
        (4, Gen.OneOfConst(HostileStrings).Select(Escape)),
        (2, Gen.OneOfConst(".", "..", "%2e", "%2E%2E", "a%2fb", "%00", "%ZZ", "%C0%AE", "%FF", "a;b", "a%3Bb", "%252e", "a//b", "x%20")),
        (3, Gen.Int[0, 1_000_000].Select(n => $"fz-missing-{n}")));

    private static readonly string[] CommandPaths = ["payments", "shipment", "delivery", "cancellation", "refunds"];

    private static Gen<string> Query(params string[] names) =>
        Gen.Select(Gen.Int[0, (1 << names.Length) - 1], QueryValue.Array[names.Length], Gen.Bool, Gen.Int[0, 9], (present, values, plusForSpace, duplicate) =>
        {
            var parts = new List<string>();
            for (var i = 0; i < names.Length; i++)
            {
                if ((present & (1 << i)) == 0)
                {
                    continue;
                }

                var encoded = Escape(values[i]);
                if (plusForSpace)
                {
                    encoded = encoded.Replace("%20", "+", StringComparison.Ordinal);
                }

                parts.Add(names[i] + "=" + encoded);
                if (duplicate == 0)
                {
                    parts.Add(names[i] + "=" + encoded);
                }
            }

            return parts.Count == 0 ? string.Empty : "?" + string.Join('&', parts);
        });

    /// <summary>Read-only routes (and the static files and operations routes), with hostile parameters.</summary>
    private static readonly Gen<string> ReadTarget = Gen.OneOf(
        Gen.Select(PathId, Query("asOf", "version"), (id, q) => $"/api/orders/{id}{q}"),
        Gen.Select(PathId, Query("fromVersion", "limit"), (id, q) => $"/api/orders/{id}/events{q}"),
        Query("from", "to").Select(q => "/api/stats/summary" + q),
        Query("from", "to", "interval").Select(q => "/api/stats/timeseries" + q),
        Query("top", "by").Select(q => "/api/stats/products" + q),
        PathId.Select(id => "/api/stats/customers/" + id),
        Gen.Select(PathId, Query("asOf"), (id, q) => $"/api/customers/{id}{q}"),
        Gen.Select(PathId, Query("fromVersion", "limit"), (id, q) => $"/api/customers/{id}/events{q}"),
        Query("since", "limit").Select(q => "/api/alerts" + q),
        Query("status", "olderThan", "limit").Select(q => "/api/stats/stuck" + q),
        PathId.Select(id => "/api/admin/projections/rebuild/" + id),
        Gen.OneOfConst("/health/live", "/health/ready", "/openapi/v1.json", "/", "/index.html", "/live.js", "/live.css", "/scalar",
            "//api//orders", "/api/orders/%2e%2e/x", "/api/%2e%2e/health/live", "/api/orders/a%2fb/events", "/API/ORDERS/x",
            "/api/orders/x/events/", "/api/stats/", "/api/stats/customers/", "/api/orders/x/unknown", "/nope", "/dashboard/x%00",
            "/api/admin/parked", "/api/admin/parked?x=%00"));

    /// <summary>A placement body that breaks at least one rule (or is not a JSON object at all).</summary>
    private static readonly Gen<string> BrokenPlacement = Gen.Frequency(
        (6, Gen.Select(PlacementBreak.Array[1, 3], Gen.Bool, (breaks, unknownField) =>
        {
            var body = JsonNode.Parse(TestOrders.PlaceBody("fz-" + Guid.NewGuid().ToString("N")).ToJsonString())!.AsObject();
            if (unknownField)
            {
                body["note"] = "unknown fields are ignored";
            }

            var text = body.ToJsonString();
            foreach (var apply in breaks)
            {
                text = apply(text);
            }

            return text;
        })),
        (1, BrokenJson));

    /// <summary>Each turns a placement body's JSON text into one that breaks a rule.</summary>
    private static Gen<Func<string, string>> PlacementBreak => Gen.OneOf(
        Gen.Select(Gen.OneOfConst("orderId", "customerId", "items[0].sku"), InvalidId, (path, value) => Set(path, value)),
        Gen.Select(Gen.OneOfConst("customerId", "currency", "items", "items[0].sku", "items[0].quantity", "items[0].unitPrice"), path => Remove(path)),
        Gen.OneOfConst<JsonNode?>("eur", "EU", "€UR", "EUR\n", 1, null, "", "EURO").Select(v => Set("currency", v)),
        Gen.OneOfConst<JsonNode?>(new JsonArray(), new JsonObject(), "x", 1, null).Select(v => Set("items", v)),
        Gen.OneOfConst<JsonNode?>(null, 1, "x", new JsonArray()).Select(v => Set("items[0]", v)),
        Gen.OneOfConst<JsonNode?>(0, -1, 10_001, 1.5, "1", 2_147_483_648L, null, true).Select(v => Set("items[0].quantity", v)),
        Gen.OneOfConst<JsonNode?>(-0.01m, 1_000_000.01m, 1.234m, "1.5", null, 1.005m, false).Select(v => Set("items[0].unitPrice", v)),
        Gen.OneOfConst("1e-30", "1e309", "1E+7", "-0.001", "99999999999999999999999999999999", "1e-3", "1.0001e1", "0.1e-2")
            .Select(raw => RawNumber("items[0].unitPrice", raw)),
        Gen.OneOfConst("2147483648", "-0", "1e400", "0.15e1", "-1e0", "0.99999999999999999999999999999").Select(raw => RawNumber("items[0].quantity", raw)),
        Gen.OneOfConst<JsonNode?>("2999-01-01T00:00:00Z", "1600-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "x", 5, true, new JsonObject(), "9999-12-31T23:59:59Z")
            .Select(v => Set("occurredAt", v)),
        // A repeated key: refused as such (a parser where the last copy wins would see a valid body).
        Gen.Const<Func<string, string>>(text => "{\"items\":\"dup\"," + text[1..]),
        Gen.Const<Func<string, string>>(text => text.Replace("\"quantity\":2", "\"quantity\":\"2\"", StringComparison.Ordinal)));

    private static Gen<JsonNode?> InvalidId => Gen.OneOf(
        Gen.OneOfConst(HostileStrings).Where(s => !OrderFlow.Orders.Identifiers.IsValid(s) || s.Contains('\n')).Select(s => (JsonNode?)s),
        Gen.OneOfConst<JsonNode?>(1, true, new JsonObject(), new JsonArray()));

    /// <summary>Not a placement at all: broken JSON text, other JSON values, bytes that are not UTF-8.</summary>
    private static Gen<string> BrokenJson => Gen.OneOf(
        Gen.Select(Gen.Int[1, 60], n => TestOrders.PlaceBody("fz-trunc").ToJsonString()[..n]),
        Gen.OneOfConst("", "null", "[]", "\"text\"", "123", "true", "{", "}", "{}x", "{} {}", "{\"a\":1,}", "{'a':1}", "{\"items\":[1,]}",
            "{\"customerId\":\"c\" \"currency\":\"EUR\"}", "\u0000", "{\"customerId\":\"c\\u0000\"}", "{\"customerId\":\"\\ud800\"}",
            "/* c */ {}", "{\"customerId\":\"c\"}\u0000"),
        Gen.Int[100, 3000].Select(depth => new string('[', depth) + new string(']', depth)),
        Gen.Int[100, 3000].Select(depth => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth)),
        Gen.String[Gen.Char, 1, 200]);

    /// <summary>The body of a command to an order that does not exist: anything, valid or not.</summary>
    private static readonly Gen<string> AnyCommandBody = Gen.Frequency(
        (3, Gen.OneOfConst(
            TestOrders.PayBody().ToJsonString(), TestOrders.ShipBody().ToJsonString(), TestOrders.DeliverBody().ToJsonString(),
            TestOrders.CancelBody().ToJsonString(), TestOrders.RefundBody(1m).ToJsonString())),
        (2, Gen.Select(Gen.OneOfConst("paymentId", "refundId", "method", "carrier", "trackingNumber", "reason", "amount", "occurredAt"),
            QueryValue, (name, value) => new JsonObject { [name] = value }.ToJsonString())),
        (2, BrokenJson));

    /// <summary>A registration body that breaks at least one rule (or is not a JSON object at all).</summary>
    private static readonly Gen<string> BrokenRegistration = Gen.Frequency(
        (3, Gen.Select(
            Gen.OneOf(
                InvalidId.Select(v => ("customerId", v)),
                Gen.OneOfConst<JsonNode?>(null, "", " ", "a\nb", "a\u0000b", LoneSurrogate, new string('n', 201), 1, new JsonObject()).Select(v => ("name", v)),
                Gen.OneOfConst<JsonNode?>(null, "", "ada", "ada@", "@x.de", "a@b", "a b@c.de", "Ada <a@b.de>", "a@b.c\n", new string('a', 250) + "@b.de", 1).Select(v => ("email", v)),
                Gen.OneOfConst<JsonNode?>(null, "", "gb", "GBR", "UK", "XX", "G\u0000", 44).Select(v => ("country", v)),
                Gen.OneOfConst<JsonNode?>("2999-01-01T00:00:00Z", "1600-01-01T00:00:00Z", "x", 5).Select(v => ("occurredAt", v))),
            Gen.Bool,
            (broken, unknownField) =>
            {
                var body = TestCustomers.RegisterBody("fz-" + Guid.NewGuid().ToString("N"));
                body[broken.Item1] = broken.Item2?.DeepClone();
                if (unknownField)
                {
                    body["note"] = "unknown fields are ignored";
                }

                return body.ToJsonString().Replace($"\"{LoneSurrogate}\"", "\"\\ud800\"", StringComparison.Ordinal);
            })),
        (1, BrokenJson));

    /// <summary>
    /// Stands for a lone surrogate in a generated body: a JsonNode holding one is written as U+FFFD
    /// (a valid character), so the body gets the JSON escape <c>\ud800</c> written out instead.
    /// </summary>
    private const string LoneSurrogate = "__lone_surrogate__";

    /// <summary>The body of a profile change of a customer that does not exist, or of an erasure: anything, valid or not.</summary>
    private static readonly Gen<string> AnyCustomerCommandBody = Gen.Frequency(
        (2, Gen.OneOfConst(TestCustomers.ProfileBody(name: "Ada King").ToJsonString(), TestCustomers.ProfileBody(country: "FR").ToJsonString(), "{}")),
        (2, Gen.Select(Gen.OneOfConst("name", "email", "country", "occurredAt", "erasedBy"), QueryValue, (name, value) => new JsonObject { [name] = value }.ToJsonString())),
        (2, BrokenJson));

    private static readonly Gen<string?> ContentType = Gen.Frequency(
        (8, Gen.Const<string?>("application/json")),
        (3, Gen.OneOfConst<string?>("application/json; charset=utf-8", "application/json; charset=utf-16", "text/plain", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x", "application/problem+json", "application/JSON", "application/json; charset=\u00e9", "*/*", null, "application/json;;")));

    private static readonly Gen<string?> Key = Gen.Frequency(
        (8, Gen.Const<string?>(ApiHost.AdminKey)),
        (1, Gen.OneOfConst<string?>(null, ApiHost.ReaderKey, ApiHost.WriterKey, "wrong", "", ApiHost.AdminKey + " ", "é")));

    /// <summary>Credentials that are not the admin's: none, another role's, or wrong ones (the admin's key with a trailing space is the admin's: header values are trimmed).</summary>
    private static readonly Gen<string?> NotAdmin = Gen.OneOfConst<string?>(null, ApiHost.ReaderKey, ApiHost.WriterKey, "wrong", "", "é");

    private static readonly Gen<KeyValuePair<string, string>[]> Headers = Gen.Select(
        Gen.OneOfConst("Idempotency-Key", "X-Correlation-Id", "X-Causation-Id", "X-Api-Key", "Accept", "Accept-Charset", "If-Match", "Range", "Origin", "X-Forwarded-For"),
        Gen.Frequency((3, OneOf(HostileStrings).Where(s => s.IndexOfAny(['\r', '\n', '\0']) < 0)), (1, Gen.String[Gen.Char['!', '~'], 1, 300])),
        (name, value) => KeyValuePair.Create(name, value)).Array[0, 3];

    public static readonly Gen<FuzzRequest> Request = Gen.Frequency(
        (5, Gen.Select(ReadTarget, Key, Headers, Gen.OneOfConst("GET", "GET", "GET", "HEAD", "DELETE", "PUT", "PATCH", "OPTIONS"),
            (target, key, headers, method) => new FuzzRequest(method, target, key, headers, null, null, false))),
        (4, Gen.Select(BrokenPlacement, Key, Headers, ContentType, Gen.Int[0, 4], (body, key, headers, type, chunked) =>
            new FuzzRequest("POST", "/api/orders", key, headers, Encoding.UTF8.GetBytes(body), type, chunked == 0))),
        (3, Gen.Select(PathId, Gen.OneOfConst(CommandPaths), AnyCommandBody, Key, Headers, ContentType, Gen.Int[0, 4], (id, command, body, key, headers, type, chunked) =>
            new FuzzRequest("POST", $"/api/orders/{id}/{command}", key, headers, Encoding.UTF8.GetBytes(body), type, chunked == 0))),
        (1, Gen.Select(BrokenRegistration, Key, Headers, ContentType, (body, key, headers, type) =>
            new FuzzRequest("POST", "/api/customers", key, headers, Encoding.UTF8.GetBytes(body), type, false))),
        (1, Gen.Select(PathId, AnyCustomerCommandBody, Key, Headers, ContentType, (id, body, key, headers, type) =>
            new FuzzRequest("POST", $"/api/customers/{id}/profile", key, headers, Encoding.UTF8.GetBytes(body), type, false))),
        // Any subject may be erased, registered or not, and an erasure's body is optional: only a caller who is not an admin is refused whatever the body.
        (1, Gen.Select(PathId, AnyCustomerCommandBody, NotAdmin, Headers, ContentType, (id, body, key, headers, type) =>
            new FuzzRequest("POST", $"/api/customers/{id}/erasure", key, headers, Encoding.UTF8.GetBytes(body), type, false))),
        (1, Gen.Select(Gen.OneOfConst<byte[]>([0xC3, 0x28], [0xFF, 0xFE, 0x7B, 0x00], [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], [0xED, 0xA0, 0x80]), ContentType,
            (bytes, type) => new FuzzRequest("POST", "/api/orders", ApiHost.AdminKey, [], bytes, type, false))),
        (1, Gen.Select(Gen.Int[65_000, 70_000], Gen.Bool, (size, chunked) =>
            new FuzzRequest("POST", "/api/orders", ApiHost.AdminKey, [], Encoding.UTF8.GetBytes("{\"customerId\":\"" + new string('x', size) + "\"}"), "application/json", chunked))),
        (1, Gen.Select(Gen.OneOfConst<string?>(null, ApiHost.ReaderKey, ApiHost.WriterKey, "wrong"), Query("x"), (key, q) =>
            new FuzzRequest("POST", "/api/admin/projections/rebuild" + q, key, [], null, null, false))));

    /// <summary>Percent-encodes UTF-8, lone surrogates included (as U+FFFD, which is what they become on the wire).</summary>
    private static string Escape(string value) =>
        string.Concat(Encoding.UTF8.GetBytes(value).Select(b => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~'
            ? ((char)b).ToString()
            : "%" + b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// Raw HTTP/1.1 requests with broken framing (chunk sizes, lengths, header bytes, request
    /// lines), as bytes, and whether the sender closes its side after them.
    /// </summary>
    public static readonly Gen<(byte[] Request, bool Close, string Description)> Framing = Gen.OneOf(
        Gen.Select(Gen.OneOf(Gen.String[Gen.Char["0123456789abcdefABCDEF"], 1, 24], Gen.OneOfConst("ffffffffffffffffff", "-1", "0x10", "1;ext=\"x\"", "1 ", " 1", "", "g", "10000000000000000", "1;a=b;c", "7fffffffffffffff")),
            Gen.Bool, (size, close) => Raw("POST", "/api/orders", ["Transfer-Encoding: chunked"], $"{size}\r\n{{\"a\":1}}\r\n0\r\n\r\n", close, $"chunk size '{size}'")),
        Gen.Select(Gen.OneOfConst("-1", "99999999999999999999", "1,2", "abc", "10", "0", "100", " 5", "5 5"), Gen.Bool, (length, close) =>
            Raw("POST", "/api/orders", [$"Content-Length: {length}"], "{\"a\":1}", close, $"Content-Length '{length}'")),
        Gen.Select(Gen.Int[0, 5], Gen.Bool, (variant, close) => variant switch
        {
            0 => Raw("POST", "/api/orders", ["Content-Length: 7", "Content-Length: 9"], "{\"a\":1}", close, "two Content-Lengths"),
            1 => Raw("POST", "/api/orders", ["Content-Length: 7", "Transfer-Encoding: chunked"], "7\r\n{\"a\":1}\r\n0\r\n\r\n", close, "Content-Length and chunked"),
            2 => Raw("POST", "/api/orders", ["Transfer-Encoding: gzip, chunked"], "7\r\n{\"a\":1}\r\n0\r\n\r\n", close, "gzip transfer coding"),
            3 => Raw("POST", "/api/orders", ["Transfer-Encoding: chunked"], "5\r\n{\"a\"", true, "chunked body cut short"),
            4 => Raw("GET", "/api/stats/summary", ["Content-Length: 5"], "hello", close, "a body on GET"),
            _ => Raw("POST", "/api/orders", ["Transfer-Encoding: chunked"], "3\r\n{}\r\n", true, "no last chunk"),
        }),
        Gen.Select(Gen.OneOfConst("X-Api-Key: a\u0001b", "X-Api-Key", "X-Api-Key:: x", " X-Api-Key: x", "X-Api-Key: x\r\n folded", "Idempotency-Key: \u00e9\u00e9",
            "Idempotency-Key: " + new string('k', 40_000), "X\u0000: y", "Content-Type: application/json\u0000"),
            header => Raw("POST", "/api/orders", [header, "Content-Length: 2"], "{}", false, $"header '{header[..Math.Min(header.Length, 40)]}'")),
        Gen.OneOfConst("GET /api/orders/\u0001 HTTP/1.1", "GET /api/orders/x HTTP/1.0", "GET /api/orders/x HTTP/2.0", "GET  /api/orders/x HTTP/1.1",
            "G\u00c9T /api/orders/x HTTP/1.1", "GET api/orders/x HTTP/1.1", "GET http://other/api/orders/x HTTP/1.1", "GET * HTTP/1.1",
            "GET /api/orders/" + new string('x', 20_000) + " HTTP/1.1", "GET /api/orders/x?%zz HTTP/1.1", "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1")
            .Select(line => (Encoding.Latin1.GetBytes(line + "\r\nHost: localhost\r\nX-Api-Key: " + ApiHost.AdminKey + "\r\n\r\n"), false, $"request line '{line[..Math.Min(line.Length, 50)]}'")));

    private static (byte[], bool, string) Raw(string method, string path, string[] headers, string body, bool close, string description)
    {
        var text = new StringBuilder().Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: localhost\r\n")
            .Append("X-Api-Key: ").Append(ApiHost.AdminKey).Append("\r\nContent-Type: application/json\r\n");
        foreach (var header in headers)
        {
            text.Append(header).Append("\r\n");
        }

        text.Append("\r\n").Append(body);
        return (Encoding.Latin1.GetBytes(text.ToString()), close, description);
    }

    private static Func<string, string> Set(string path, JsonNode? value) => text => Edit(text, path, (parent, name) =>
    {
        switch (parent)
        {
            case JsonObject o:
                o[name] = value?.DeepClone();
                break;
            case JsonArray a when int.TryParse(name, out var i) && i < a.Count:
                a[i] = value?.DeepClone();
                break;
        }
    });

    private static Func<string, string> Remove(string path) => text => Edit(text, path, (parent, name) => (parent as JsonObject)?.Remove(name));

    /// <summary>Sets a number written exactly as <paramref name="raw"/>, which JsonNode could not keep as written.</summary>
    private static Func<string, string> RawNumber(string path, string raw) => text =>
        Set(path, "__raw__")(text).Replace("\"__raw__\"", raw, StringComparison.Ordinal);

    private static string Edit(string text, string path, Action<JsonNode, string> change)
    {
        try
        {
            var root = JsonNode.Parse(text);
            var node = root;
            var segments = path.Replace("[", ".", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal).Split('.');
            for (var i = 0; i < segments.Length - 1 && node is not null; i++)
            {
                node = node switch
                {
                    JsonObject o => o[segments[i]],
                    JsonArray a when int.TryParse(segments[i], out var index) && index < a.Count => a[index],
                    _ => null,
                };
            }

            if (node is null)
            {
                return text; // the path is gone: an earlier change already broke the body
            }

            change(node, segments[^1]);
            return root!.ToJsonString();
        }
        catch (Exception exception) when (exception is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            return text; // broken already: malformed, or a repeated key, which JsonObject refuses when first read
        }
    }
}
