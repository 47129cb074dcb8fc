using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>
/// Which events a projection grain has already counted, by stream id (an order's, a customer's)
/// and version: a repeated or redelivered event is recognised and skipped. Each grain holds only
/// the events that belong to it (one day of one shard, one customer), so this stays proportional
/// to the grain's own data.
/// </summary>
/// <remarks>
/// This memory is most of a busy day's state, so a stream is remembered by a 128-bit fingerprint
/// (SHA-256 of its id, truncated) instead of its id of up to 64 characters, and stored packed
/// (<see cref="Packed"/>): about 19 bytes an order of 4 events, where ids and version lists took
/// 33 with 20-character ids and 77 with 64. A cryptographic hash because stream ids come from
/// clients: nobody can make two ids share a fingerprint (and so have an event skipped) without
/// about 2^64 hash computations; by chance, two of a billion orders would collide with
/// probability 10^-21.
/// </remarks>
[GenerateSerializer, Alias("orderflow.counted-events.v2")]
public sealed class CountedEvents
{
    private const int FingerprintBytes = 16;

    [NonSerialized]
    private Dictionary<UInt128, List<int>> versions = [];

    [NonSerialized]
    private long events;

    /// <summary>Streams with at least one counted event.</summary>
    public int Streams => versions.Count;

    /// <summary>Events counted, over every stream: it only grows, so of two copies of what a grain showed the one made at more events is the newer.</summary>
    public long Events => events;

    /// <summary>Marks the event as counted; false when it already was.</summary>
    public bool TryMark(string streamId, int version)
    {
        var fingerprint = Fingerprint(streamId);
        if (!versions.TryGetValue(fingerprint, out var counted))
        {
            versions[fingerprint] = [version];
            events++;
            return true;
        }

        var index = counted.BinarySearch(version);
        if (index >= 0)
        {
            return false;
        }

        counted.Insert(~index, version);
        events++;
        return true;
    }

    /// <summary>The versions counted of <paramref name="streamId"/>, ascending.</summary>
    public IReadOnlyList<int> VersionsOf(string streamId) =>
        versions.TryGetValue(Fingerprint(streamId), out var counted) ? counted : [];

    /// <summary>As stored and sent: per stream its fingerprint, how many versions, and the versions as ascending differences, all variable-length.</summary>
    [Id(1)]
    public byte[] Packed
    {
        get
        {
            // Measured first, then written into one array of that size: a busy day's form passes the
            // runtime's 85,000-byte large-object threshold, and each such array lives until a full collection.
            var length = 0;
            foreach (var counted in versions.Values)
            {
                length += FingerprintBytes + Varint.Length((ulong)counted.Count);
                var previous = 0;
                foreach (var version in counted)
                {
                    length += Varint.Length((ulong)(version - previous));
                    previous = version;
                }
            }

            var packed = new byte[length];
            var position = 0;
            foreach (var (fingerprint, counted) in versions)
            {
                BinaryPrimitives.WriteUInt128LittleEndian(packed.AsSpan(position, FingerprintBytes), fingerprint);
                position += FingerprintBytes;
                position += Varint.Write(packed.AsSpan(position), (ulong)counted.Count);
                var previous = 0;
                foreach (var version in counted)
                {
                    position += Varint.Write(packed.AsSpan(position), (ulong)(version - previous));
                    previous = version;
                }
            }

            return packed;
        }
        set
        {
            versions = [];
            events = 0;
            for (var position = 0; position < value.Length;)
            {
                var fingerprint = BinaryPrimitives.ReadUInt128LittleEndian(value.AsSpan(position, FingerprintBytes));
                position += FingerprintBytes;
                var count = (int)Varint.Read(value, ref position);
                var counted = new List<int>(count);
                var version = 0;
                for (var i = 0; i < count; i++)
                {
                    version += (int)Varint.Read(value, ref position);
                    counted.Add(version);
                }

                versions[fingerprint] = counted;
                events += count;
            }
        }
    }

    private static UInt128 Fingerprint(string streamId) =>
        BinaryPrimitives.ReadUInt128LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(streamId)));
}
