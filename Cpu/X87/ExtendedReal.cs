using System.Buffers.Binary;

namespace Sim.Cpu.X87;

/// <summary>
/// An 80-bit double extended-precision value as the x87 keeps it in its data registers (SDM vol. 1, 4.2.2): sign, 15-bit
/// biased exponent and 64-bit significand whose integer bit (J, bit 63) is explicit.
/// </summary>
public readonly struct ExtendedReal : IEquatable<ExtendedReal>
{
    public const int ExponentBias = 0x3FFF;
    public const int MaxExponent = 0x7FFF;
    public const ulong IntegerBit = 1UL << 63;
    public const ulong QuietBit = 1UL << 62;

    public ExtendedReal(ushort signExponent, ulong significand)
    {
        SignExponent = signExponent;
        Significand = significand;
    }

    public ExtendedReal(bool sign, int exponent, ulong significand)
        : this((ushort)((sign ? 0x8000 : 0) | (exponent & MaxExponent)), significand)
    {
    }

    public static ExtendedReal PositiveZero => new(0, 0);
    public static ExtendedReal NegativeZero => new(0x8000, 0);
    public static ExtendedReal One => new(ExponentBias, IntegerBit);
    public static ExtendedReal PositiveInfinity => new(0x7FFF, IntegerBit);
    public static ExtendedReal NegativeInfinity => new(0xFFFF, IntegerBit);

    /// <summary>The default QNaN the masked invalid-operation response delivers (SDM vol. 1, 4.8.3.7).</summary>
    public static ExtendedReal RealIndefinite => new(0xFFFF, IntegerBit | QuietBit);

    /// <summary>Bits 79:64: sign and biased exponent.</summary>
    public ushort SignExponent { get; }

    /// <summary>Bits 63:0, integer bit included.</summary>
    public ulong Significand { get; }

    public bool Sign => (SignExponent & 0x8000) != 0;

    public int Exponent => SignExponent & MaxExponent;

    public bool HasIntegerBit => (Significand & IntegerBit) != 0;

    public ExtendedRealClass Class
    {
        get
        {
            var exponent = Exponent;
            var j = HasIntegerBit;
            var fraction = Significand & ~IntegerBit;
            if (exponent == 0)
                return j ? ExtendedRealClass.PseudoDenormal : fraction == 0 ? ExtendedRealClass.Zero : ExtendedRealClass.Denormal;
            if (exponent == MaxExponent)
            {
                if (!j)
                    return fraction == 0 ? ExtendedRealClass.PseudoInfinity : ExtendedRealClass.PseudoNaN;
                if (fraction == 0)
                    return ExtendedRealClass.Infinity;
                return (fraction & QuietBit) != 0 ? ExtendedRealClass.QuietNaN : ExtendedRealClass.SignalingNaN;
            }
            return j ? ExtendedRealClass.Normal : ExtendedRealClass.Unnormal;
        }
    }

    public bool IsZero => Exponent == 0 && Significand == 0;

    public bool IsNaN => Exponent == MaxExponent && HasIntegerBit && (Significand & ~IntegerBit) != 0;

    public bool IsSignalingNaN => Class == ExtendedRealClass.SignalingNaN;

    public bool IsInfinity => Exponent == MaxExponent && Significand == IntegerBit;

    /// <summary>Pseudo-NaN, pseudo-infinity and unnormal: operands the arithmetic rejects with #IA.</summary>
    public bool IsUnsupported => Exponent != 0 && !HasIntegerBit;

    /// <summary>Denormal or pseudo-denormal: an operand that raises #D.</summary>
    public bool IsDenormal => Exponent == 0 && Significand != 0;

    public ExtendedReal Negate() => new((ushort)(SignExponent ^ 0x8000), Significand);

    public ExtendedReal Abs() => new((ushort)(SignExponent & 0x7FFF), Significand);

    internal ExtendedReal WithSign(bool sign) => new((ushort)((SignExponent & 0x7FFF) | (sign ? 0x8000 : 0)), Significand);

    internal ExtendedReal Quieted() => new(SignExponent, Significand | QuietBit);

    /// <summary>Reads the ten-byte memory image (significand first, little-endian).</summary>
    public static ExtendedReal Read(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes));

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Significand);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[8..], SignExponent);
    }

    public bool Equals(ExtendedReal other) => SignExponent == other.SignExponent && Significand == other.Significand;

    public override bool Equals(object? obj) => obj is ExtendedReal other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(SignExponent, Significand);

    public static bool operator ==(ExtendedReal left, ExtendedReal right) => left.Equals(right);

    public static bool operator !=(ExtendedReal left, ExtendedReal right) => !left.Equals(right);

    /// <summary>The bits as 20 hex digits, sign and exponent first.</summary>
    public override string ToString() => $"{SignExponent:X4}{Significand:X16}";
}
