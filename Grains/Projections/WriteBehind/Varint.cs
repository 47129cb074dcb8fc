using System.Buffers;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>Unsigned LEB128 integers, for the packed forms of projection state.</summary>
internal static class Varint
{
    public static void Write(IBufferWriter<byte> buffer, ulong value)
    {
        var span = buffer.GetSpan(10);
        var length = 0;
        for (; value >= 0x80; value >>= 7)
        {
            span[length++] = (byte)(value | 0x80);
        }

        span[length++] = (byte)value;
        buffer.Advance(length);
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
