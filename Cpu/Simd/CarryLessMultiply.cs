using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sim.Cpu.Simd;

/// <summary>
/// PCLMULQDQ (SDM vol. 2): the carry-less (GF(2)[x]) product of one quadword of each operand, imm8[0] selecting the
/// first operand's and imm8[4] the second's, as 128 bits. The host's PCLMULQDQ is exact; the shift-and-XOR path
/// serves hosts without it.
/// </summary>
internal static class CarryLessMultiply
{
    public static Vector128<byte> Multiply(Vector128<byte> a, Vector128<byte> b, byte imm)
    {
        if (!Pclmulqdq.IsSupported) return Software(a, b, imm);
        var x = a.AsUInt64();
        var y = b.AsUInt64();
        return (imm & 0x11) switch
        {
            0x00 => Pclmulqdq.CarrylessMultiply(x, y, 0x00).AsByte(),
            0x01 => Pclmulqdq.CarrylessMultiply(x, y, 0x01).AsByte(),
            0x10 => Pclmulqdq.CarrylessMultiply(x, y, 0x10).AsByte(),
            _ => Pclmulqdq.CarrylessMultiply(x, y, 0x11).AsByte(),
        };
    }

    public static Vector128<byte> Software(Vector128<byte> a, Vector128<byte> b, byte imm)
    {
        var x = a.AsUInt64().GetElement(imm & 1);
        var y = b.AsUInt64().GetElement((imm >> 4) & 1);
        ulong low = 0, high = 0;
        for (var i = 0; i < 64; i++)
        {
            if ((y & (1UL << i)) == 0) continue;
            low ^= x << i;
            if (i != 0) high ^= x >> (64 - i);
        }
        return Vector128.Create(low, high).AsByte();
    }
}
