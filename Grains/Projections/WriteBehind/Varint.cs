using System.Buffers;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>Unsigned LEB128 integers, for the packed forms of projection state.</summary>
internal static class Varint
{
    public static void Write(IBufferWriter<byte> buffer, ulong value) => buffer.Advance(Write(buffer.GetSpan(10), value));

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="span"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> span, ulong value)
    {
        var length = 0;
        for (; value >= 0x80; value >>= 7)
        {
            span[length++] = (byte)(value | 0x80);
        }

        span[length++] = (byte)value;
        return length;
    }

    /// <summary>The bytes <see cref="Write(Span{byte}, ulong)"/> takes for <paramref name="value"/>.</summary>
    public static int Length(ulong value)
    {
        var length = 1;
        for (; value >= 0x80; value >>= 7)
        {
            length++;
        }

        return length;
    }

    public static ulong Read(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var next = bytes[position++];
            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }
    }
}
