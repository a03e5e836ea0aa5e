using System.Numerics;
using System.Runtime.Intrinsics;

namespace Sim.Cpu.Simd;

/// <summary>
/// The comparison of PCMPESTRI, PCMPESTRM, PCMPISTRI and PCMPISTRM (SDM vol. 2, 4.1): imm8[1:0] the data format
/// (unsigned or signed bytes or words), imm8[3:2] the aggregation (equal any, ranges, equal each, equal ordered),
/// imm8[5:4] the polarity, with the manual's overrides for elements past the end of either string; the result is
/// IntRes2, one bit per element of the second operand, and the arithmetic flags.
/// </summary>
internal static class PackedStringCompare
{
    /// <summary>The number of elements: 16 bytes or 8 words.</summary>
    public static int Elements(int imm) => (imm & 1) != 0 ? 8 : 16;

    /// <summary>An explicit length (EAX/EDX, RAX/RDX with REX.W): its absolute value, saturated to the element count (SDM vol. 2, 4.1.2).</summary>
    public static int ExplicitLength(long value, int imm)
    {
        var n = Elements(imm);
        var magnitude = value < 0 ? (value == long.MinValue ? long.MaxValue : -value) : value;
        return (int)Math.Min(magnitude, n);
    }

    /// <summary>An implicit length: the index of the first zero element, or the element count.</summary>
    public static int ImplicitLength(Vector128<byte> v, int imm)
    {
        var n = Elements(imm);
        for (var i = 0; i < n; i++)
            if (Element(v, i, imm) == 0) return i;
        return n;
    }

    private static int Element(Vector128<byte> v, int i, int imm) => (imm & 3) switch
    {
        0 => v.GetElement(i),
        1 => v.AsUInt16().GetElement(i),
        2 => v.AsSByte().GetElement(i),
        _ => v.AsInt16().GetElement(i),
    };

    /// <summary>IntRes2 of <paramref name="a"/> (the first operand, of length <paramref name="la"/>) against <paramref name="b"/> (length <paramref name="lb"/>).</summary>
    public static uint Compare(Vector128<byte> a, int la, Vector128<byte> b, int lb, int imm)
    {
        var n = Elements(imm);
        uint result = 0;
        switch ((imm >> 2) & 3)
        {
            case 0:
                // Equal any: element j of b equals some valid element of a.
                for (var j = 0; j < lb; j++)
                for (var i = 0; i < la; i++)
                    if (Element(a, i, imm) == Element(b, j, imm))
                    {
                        result |= 1u << j;
                        break;
                    }
                break;
            case 1:
                // Ranges: a holds pairs (low, high); element j of b within one of them.
                for (var j = 0; j < lb; j++)
                {
                    var x = Element(b, j, imm);
                    for (var i = 0; i + 1 < la; i += 2)
                        if (Element(a, i, imm) <= x && x <= Element(a, i + 1, imm))
                        {
                            result |= 1u << j;
                            break;
                        }
                }
                break;
            case 2:
                // Equal each: past both ends the elements compare true, past one of them false.
                for (var i = 0; i < n; i++)
                {
                    var equal = i < la && i < lb ? Element(a, i, imm) == Element(b, i, imm) : i >= la && i >= lb;
                    if (equal) result |= 1u << i;
                }
                break;
            default:
                // Equal ordered: a (as a substring) starts at element j of b; past a's end true, past b's end false.
                for (var j = 0; j < n; j++)
                {
                    var match = true;
                    for (var k = 0; k < n - j && k < la; k++)
                        if (j + k >= lb || Element(a, k, imm) != Element(b, j + k, imm))
                        {
                            match = false;
                            break;
                        }
                    if (match) result |= 1u << j;
                }
                break;
        }
        var all = (1u << n) - 1;
        return ((imm >> 4) & 3) switch
        {
            1 => ~result & all,
            3 => result ^ ((1u << lb) - 1),
            _ => result,
        };
    }

    /// <summary>CF = IntRes2 ≠ 0, ZF = b shorter than the register, SF = a shorter, OF = IntRes2[0]; AF and PF clear (SDM vol. 2, 4.1.6).</summary>
    public static ulong Flags(uint intRes2, int la, int lb, int imm)
    {
        var n = Elements(imm);
        return (intRes2 != 0 ? Registers.Rflags.CF : 0) | (lb < n ? Registers.Rflags.ZF : 0) | (la < n ? Registers.Rflags.SF : 0)
            | ((intRes2 & 1) != 0 ? Registers.Rflags.OF : 0);
    }

    /// <summary>PCMPxSTRI's index: the least (imm8[6] = 0) or most significant set bit of IntRes2, or the element count when none is set.</summary>
    public static uint Index(uint intRes2, int imm)
    {
        if (intRes2 == 0) return (uint)Elements(imm);
        return (imm & 0x40) == 0 ? (uint)BitOperations.TrailingZeroCount(intRes2) : (uint)(31 - BitOperations.LeadingZeroCount(intRes2));
    }

    /// <summary>PCMPxSTRM's mask: IntRes2 zero-extended (imm8[6] = 0) or expanded to a byte or word mask.</summary>
    public static Vector128<byte> Mask(uint intRes2, int imm)
    {
        if ((imm & 0x40) == 0) return Vector128.CreateScalar(intRes2).AsByte();
        var r = Vector128<byte>.Zero;
        if ((imm & 1) == 0)
        {
            for (var i = 0; i < 16; i++)
                if ((intRes2 & (1u << i)) != 0) r = r.WithElement(i, (byte)0xFF);
            return r;
        }
        var w = Vector128<ushort>.Zero;
        for (var i = 0; i < 8; i++)
            if ((intRes2 & (1u << i)) != 0) w = w.WithElement(i, (ushort)0xFFFF);
        return w.AsByte();
    }
}
