using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// Everything a storage account holds, as bytes: every property (keys included) of every entity of
/// every table, and every message of every queue, as listed by the service clients. A string is
/// searched as UTF-8 and, when it is base64 (a queue message, a binary column written as text), as
/// the bytes it decodes to as well.
/// </summary>
public sealed class StorageScan
{
    private readonly List<(string Where, byte[] Bytes)> contents = [];

    private StorageScan()
    {
    }

    public int TableCount { get; private set; }

    public int QueueMessageCount { get; private set; }

    /// <param name="queuesConnectionString">The account whose queues are read too; null: tables only.</param>
    public static async Task<StorageScan> ReadAsync(string tablesConnectionString, string? queuesConnectionString, CancellationToken ct)
    {
        var scan = new StorageScan();
        var tables = new TableServiceClient(tablesConnectionString);
        await foreach (var table in tables.QueryAsync(cancellationToken: ct))
        {
            scan.TableCount++;
            await foreach (var entity in tables.GetTableClient(table.Name).QueryAsync<TableEntity>(cancellationToken: ct))
            {
                foreach (var (name, value) in entity)
                {
                    scan.Add($"{table.Name}/{entity.PartitionKey}/{entity.RowKey}/{name}", value);
                }
            }
        }

        if (queuesConnectionString is null)
        {
            return scan;
        }

        var queues = new QueueServiceClient(queuesConnectionString);
        await foreach (var queue in queues.GetQueuesAsync(cancellationToken: ct))
        {
            var messages = await queues.GetQueueClient(queue.Name).PeekMessagesAsync(32, ct);
            foreach (var message in messages.Value)
            {
                scan.QueueMessageCount++;
                scan.Add($"queue {queue.Name}/{message.MessageId}", message.Body.ToString());
            }
        }

        return scan;
    }

    /// <summary>Where any spelling of <paramref name="secret"/> (<see cref="Spellings"/>) occurs.</summary>
    public IReadOnlyList<string> FindAnywhere(string secret)
    {
        var needles = Spellings(secret).Distinct().Select(Encoding.UTF8.GetBytes)
            .Concat(Spellings(secret).Distinct().Select(Encoding.Unicode.GetBytes))
            .ToList();
        return [.. contents.Where(content => needles.Any(needle => content.Bytes.AsSpan().IndexOf(needle) >= 0)).Select(content => content.Where).Distinct()];
    }

    /// <summary>
    /// Where <paramref name="secret"/> occurs as bytes (a binary column, or a base64 text decoded),
    /// or spelled as hex (upper or lower case), base64 or base64url, as UTF-8 or UTF-16 text.
    /// </summary>
    public IReadOnlyList<string> FindAnywhere(byte[] secret)
    {
        var spellings = new[] { Convert.ToHexString(secret), Convert.ToHexStringLower(secret), Convert.ToBase64String(secret).TrimEnd('='), Base64Url.EncodeToString(secret) };
        var needles = spellings.Select(Encoding.UTF8.GetBytes).Concat(spellings.Select(Encoding.Unicode.GetBytes)).Prepend(secret).ToList();
        return [.. contents.Where(content => needles.Any(needle => content.Bytes.AsSpan().IndexOf(needle) >= 0)).Select(content => content.Where).Distinct()];
    }

    /// <summary>
    /// The ways a string could be written down: as it is, upper and lower case, and each of those
    /// JSON-escaped, URL-encoded, in hex and in base64 of its UTF-8 and its UTF-16 (the scan matches
    /// every spelling as UTF-8 and UTF-16 bytes).
    /// </summary>
    public static IEnumerable<string> Spellings(string secret)
    {
        foreach (var text in new[] { secret, secret.ToUpperInvariant(), secret.ToLowerInvariant() })
        {
            yield return text;
            yield return JsonSerializer.Serialize(text)[1..^1];
            yield return JsonSerializer.Serialize(text, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })[1..^1];
            yield return Uri.EscapeDataString(text);
            yield return WebUtility.UrlEncode(text);
            foreach (var bytes in new[] { Encoding.UTF8.GetBytes(text), Encoding.Unicode.GetBytes(text) })
            {
                yield return Convert.ToHexString(bytes);
                yield return Convert.ToHexStringLower(bytes);
                yield return Convert.ToBase64String(bytes).TrimEnd('=');
                yield return Base64Url.EncodeToString(bytes);
            }
        }
    }

    /// <summary>A scan of hand-made content, to check that the scan finds what it should.</summary>
    public static StorageScan Of(params object[] values)
    {
        var scan = new StorageScan();
        foreach (var value in values)
        {
            scan.Add("given", value);
        }

        return scan;
    }

    private void Add(string where, object? value)
    {
        switch (value)
        {
            case string text:
                contents.Add((where, Encoding.UTF8.GetBytes(text)));
                if (TryDecodeBase64(text) is { } decoded)
                {
                    contents.Add((where + " (base64-decoded)", decoded));
                }

                break;
            case byte[] bytes:
                contents.Add((where, bytes));
                break;
            case BinaryData binary:
                Add(where, binary.ToArray());
                break;
            case null:
                break;
            default:
                contents.Add((where, Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty)));
                break;
        }
    }

    private static byte[]? TryDecodeBase64(string text)
    {
        if (text.Length < 8)
        {
            return null;
        }

        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written]
            : Base64Url.IsValid(text) ? Base64Url.DecodeFromChars(text)
            : null;
    }
}
