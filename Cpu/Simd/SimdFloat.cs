using System.Numerics;
using Sim.Cpu.X87;

namespace Sim.Cpu.Simd;

/// <summary>
/// IEEE 754 binary32 and binary64 arithmetic as SSE and SSE2 perform it (SDM vol. 1, 4.8, 4.9, 11.5), computed in
/// software so that every MXCSR rule holds: RC, DAZ, FTZ, the six exception flags (at their MXCSR bit positions) and
/// the masked responses, and the NaN rules of 4.8.3.5 (the first source's NaN wins, SNaNs are quieted, invalid
/// operations give the default QNaN). A value is held in the low 32 or 64 bits of a ulong; <c>d</c> selects binary64.
/// </summary>
internal static partial class SimdFloat
{
    public const uint IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
    public const uint Daz = 1u << 6, UnderflowMask = 1u << 11, Ftz = 1u << 15;

    /// <summary>The exceptions detected before computing a result (SDM vol. 1, 11.5.1): they stop the other lanes' post-computation checks when unmasked.</summary>
    public const uint PreComputation = IE | DE | ZE;

    private static int FractionBits(bool d) => d ? 52 : 23;
    private static int Bias(bool d) => d ? 1023 : 127;
    public static ulong SignBit(bool d) => d ? 1UL << 63 : 1UL << 31;
    private static ulong ExponentMask(bool d) => d ? 0x7FF0_0000_0000_0000UL : 0x7F80_0000UL;
    private static ulong FractionMask(bool d) => d ? 0x000F_FFFF_FFFF_FFFFUL : 0x007F_FFFFUL;
    private static ulong QuietBit(bool d) => d ? 1UL << 51 : 1UL << 22;

    /// <summary>The QNaN floating-point indefinite (SDM vol. 1, table 4-3).</summary>
    public static ulong DefaultNaN(bool d) => d ? 0xFFF8_0000_0000_0000UL : 0xFFC0_0000UL;

    public static bool IsNaN(ulong x, bool d) => (x & ~SignBit(d)) > ExponentMask(d);
    public static bool IsSignalingNaN(ulong x, bool d) => IsNaN(x, d) && (x & QuietBit(d)) == 0;
    public static bool IsInfinity(ulong x, bool d) => (x & ~SignBit(d)) == ExponentMask(d);
    public static bool IsZero(ulong x, bool d) => (x & ~SignBit(d)) == 0;
    public static bool IsDenormal(ulong x, bool d) => (x & ExponentMask(d)) == 0 && (x & FractionMask(d)) != 0;
    private static bool Negative(ulong x, bool d) => (x & SignBit(d)) != 0;
    private static ulong Zero(bool sign, bool d) => sign ? SignBit(d) : 0;
    private static ulong Infinity(bool sign, bool d) => Zero(sign, d) | ExponentMask(d);
    public static ulong Quiet(ulong x, bool d) => x | QuietBit(d);
    private static RoundingControl Rc(uint mxcsr) => (RoundingControl)((mxcsr >> 13) & 3);

    /// <summary>A source operand as the operation sees it: DAZ turns a denormal into a zero of its sign, with no denormal exception.</summary>
    public static ulong Source(ulong x, bool d, uint mxcsr) => (mxcsr & Daz) != 0 && IsDenormal(x, d) ? x & SignBit(d) : x;

    /// <summary>Unpacks a finite nonzero value: value = significand × 2^(exponent − 3FFFh − 63), bit 63 of the significand set.</summary>
    private static void Unpack(ulong x, bool d, out bool sign, out int exponent, out ulong significand)
    {
        var fb = FractionBits(d);
        sign = Negative(x, d);
        var e = (int)((x & ExponentMask(d)) >> fb);
        var f = x & FractionMask(d);
        if (e == 0) e = 1;
        else f |= 1UL << fb;
        var shift = BitOperations.LeadingZeroCount(f);
        significand = f << shift;
        exponent = e - Bias(d) + ExtendedReal.ExponentBias + 63 - fb - shift;
    }

    /// <summary>Rounds sign × s × 2^(e − 3FFFh − 127) (s nonzero, its low bit jammed) to the format, with overflow, underflow, FTZ and inexact.</summary>
    private static ulong Round(bool sign, int e, UInt128 s, bool d, uint mxcsr, ref uint flags)
    {
        var shift = (int)UInt128.LeadingZeroCount(s);
        s <<= shift;
        e -= shift;
        var cw = new FpuControlWord((ushort)(0x40 | ((mxcsr >> 7) & 0x3F) | (((mxcsr >> 13) & 3) << 10)));
        var minExponent = ExtendedReal.ExponentBias + 1 - Bias(d);
        var overflowExponent = ExtendedReal.ExponentBias + Bias(d) + 1;
        var r = Rounding.Round(sign, e, s, d ? 53 : 24, minExponent, overflowExponent, cw, 0);
        var raised = (uint)r.Exceptions;
        var tiny = (raised & UE) != 0 || (r.Significand & ExtendedReal.IntegerBit) == 0;
        if (tiny && (mxcsr & (Ftz | UnderflowMask)) == (Ftz | UnderflowMask))
        {
            // FTZ: a tiny result with underflow masked is a zero of its sign, reported as underflow and inexact (SDM vol. 1, 10.2.3.3).
            flags |= UE | PE;
            return Zero(sign, d);
        }
        flags |= raised;
        var fb = FractionBits(d);
        if (r.Exponent >= overflowExponent) return Infinity(sign, d);
        var fraction = (r.Significand >> (63 - fb)) & FractionMask(d);
        var biased = (r.Significand & ExtendedReal.IntegerBit) == 0 ? 0UL : (ulong)(r.Exponent - ExtendedReal.ExponentBias + Bias(d));
        return Zero(sign, d) | (biased << fb) | fraction;
    }

    /// <summary>An exact finite value passed through rounding, so that a denormal result meets FTZ and the underflow rules.</summary>
    private static ulong Exact(ulong x, bool d, uint mxcsr, ref uint flags)
    {
        if (IsZero(x, d) || !IsDenormal(x, d)) return x;
        Unpack(x, d, out var sign, out var e, out var s);
        return Round(sign, e, (UInt128)s << 64, d, mxcsr, ref flags);
    }

    /// <summary>The NaN result of a two-operand operation: the first source's NaN if it is one, else the second's, quieted; SNaN raises IE.</summary>
    private static bool PropagateNaN(ulong a, ulong b, bool d, ref uint flags, out ulong result)
    {
        var an = IsNaN(a, d);
        if (!an && !IsNaN(b, d))
        {
            result = 0;
            return false;
        }
        if (IsSignalingNaN(a, d) || IsSignalingNaN(b, d)) flags |= IE;
        result = Quiet(an ? a : b, d);
        return true;
    }

    private static void DenormalOperands(ulong a, ulong b, bool d, ref uint flags)
    {
        if (IsDenormal(a, d) || IsDenormal(b, d)) flags |= DE;
    }

    public static ulong Add(ulong a, ulong b, bool d, uint mxcsr, ref uint flags) => AddSigned(a, b, d, mxcsr, ref flags, false);

    public static ulong Subtract(ulong a, ulong b, bool d, uint mxcsr, ref uint flags) => AddSigned(a, b, d, mxcsr, ref flags, true);

    private static ulong AddSigned(ulong a, ulong b, bool d, uint mxcsr, ref uint flags, bool subtract)
    {
        if (HostFastPath.Applies(a, b, d, mxcsr) && HostFastPath.TryBinary(a, b, d, subtract ? 1 : 0, ref flags, out var fast)) return fast;
        a = Source(a, d, mxcsr);
        b = Source(b, d, mxcsr);
        if (PropagateNaN(a, b, d, ref flags, out var nan)) return nan;
        if (subtract) b ^= SignBit(d);
        bool ai = IsInfinity(a, d), bi = IsInfinity(b, d);
        if (ai || bi)
        {
            if (ai && bi && Negative(a, d) != Negative(b, d))
            {
                flags |= IE;
                return DefaultNaN(d);
            }
            return ai ? a : b;
        }
        DenormalOperands(a, b, d, ref flags);
        bool az = IsZero(a, d), bz = IsZero(b, d);
        if (az && bz)
            return Negative(a, d) == Negative(b, d) ? a : Zero(Rc(mxcsr) == RoundingControl.Down, d);
        if (az) return Exact(b, d, mxcsr, ref flags);
        if (bz) return Exact(a, d, mxcsr, ref flags);
        Unpack(a, d, out var sa, out var ea, out var ma);
        Unpack(b, d, out var sb, out var eb, out var mb);
        if (ea < eb)
        {
            (sa, sb) = (sb, sa);
            (ea, eb) = (eb, ea);
            (ma, mb) = (mb, ma);
        }
        var x = (UInt128)ma << 63;
        var y = Rounding.ShiftRightJamming((UInt128)mb << 63, ea - eb);
        UInt128 s;
        var sign = sa;
        if (sa == sb) s = x + y;
        else if (x >= y) s = x - y;
        else
        {
            s = y - x;
            sign = sb;
        }
        if (s == UInt128.Zero) return Zero(Rc(mxcsr) == RoundingControl.Down, d);
        return Round(sign, ea + 1, s, d, mxcsr, ref flags);
    }

    public static ulong Multiply(ulong a, ulong b, bool d, uint mxcsr, ref uint flags)
    {
        if (HostFastPath.Applies(a, b, d, mxcsr) && HostFastPath.TryBinary(a, b, d, 2, ref flags, out var fast)) return fast;
        a = Source(a, d, mxcsr);
        b = Source(b, d, mxcsr);
        if (PropagateNaN(a, b, d, ref flags, out var nan)) return nan;
        var sign = Negative(a, d) != Negative(b, d);
        bool ai = IsInfinity(a, d), bi = IsInfinity(b, d), az = IsZero(a, d), bz = IsZero(b, d);
        if (ai || bi)
        {
            if (az || bz)
            {
                flags |= IE;
                return DefaultNaN(d);
            }
            DenormalOperands(a, b, d, ref flags);
            return Infinity(sign, d);
        }
        DenormalOperands(a, b, d, ref flags);
        if (az || bz) return Zero(sign, d);
        Unpack(a, d, out _, out var ea, out var ma);
        Unpack(b, d, out _, out var eb, out var mb);
        return Round(sign, ea + eb - ExtendedReal.ExponentBias + 1, (UInt128)ma * mb, d, mxcsr, ref flags);
    }

    public static ulong Divide(ulong a, ulong b, bool d, uint mxcsr, ref uint flags)
    {
        if (HostFastPath.Applies(a, b, d, mxcsr) && HostFastPath.TryBinary(a, b, d, 3, ref flags, out var fast)) return fast;
        a = Source(a, d, mxcsr);
        b = Source(b, d, mxcsr);
        if (PropagateNaN(a, b, d, ref flags, out var nan)) return nan;
        var sign = Negative(a, d) != Negative(b, d);
        bool ai = IsInfinity(a, d), bi = IsInfinity(b, d), az = IsZero(a, d), bz = IsZero(b, d);
        if ((ai && bi) || (az && bz))
        {
            flags |= IE;
            return DefaultNaN(d);
        }
        if (bz && !ai)
        {
            // Divide-by-zero outranks a denormal dividend (SDM vol. 1, 4.9.2): DE is not reported with it.
            flags |= ZE;
            return Infinity(sign, d);
        }
        DenormalOperands(a, b, d, ref flags);
        if (ai) return Infinity(sign, d);
        if (bi) return Zero(sign, d);
        if (az) return Zero(sign, d);
        Unpack(a, d, out _, out var ea, out var ma);
        Unpack(b, d, out _, out var eb, out var mb);
        var dividend = (UInt128)ma << 64;
        var q = dividend / mb;
        var s = q | (q * mb != dividend ? UInt128.One : UInt128.Zero);
        return Round(sign, ea - eb + ExtendedReal.ExponentBias + 63, s, d, mxcsr, ref flags);
    }

    public static ulong SquareRoot(ulong a, bool d, uint mxcsr, ref uint flags)
    {
        if (HostFastPath.TrySquareRoot(a, d, mxcsr, ref flags, out var fast)) return fast;
        a = Source(a, d, mxcsr);
        if (IsNaN(a, d))
        {
            if (IsSignalingNaN(a, d)) flags |= IE;
            return Quiet(a, d);
        }
        if (IsZero(a, d)) return a;
        if (Negative(a, d))
        {
            flags |= IE;
            return DefaultNaN(d);
        }
        if (IsInfinity(a, d)) return a;
        if (IsDenormal(a, d)) flags |= DE;
        Unpack(a, d, out _, out var ea, out var ma);
        var u = ea - ExtendedReal.ExponentBias;
        var k = (u & 1) != 0 ? 64 : 63;
        var m = (UInt128)ma << k;
        var r = IntegerSquareRoot(m);
        var s = ((UInt128)r << 64) | ((UInt128)r * r != m ? UInt128.One : UInt128.Zero);
        return Round(false, (u - 63 - k) / 2 + 63 + ExtendedReal.ExponentBias, s, d, mxcsr, ref flags);
    }

    /// <summary>floor(sqrt(m)) for m ≥ 2^126: a Newton step from the host's estimate, then exact correction.</summary>
    private static ulong IntegerSquareRoot(UInt128 m)
    {
        var estimate = Math.Sqrt((double)m);
        var r0 = estimate >= 18446744073709551615.0 ? ulong.MaxValue : (ulong)estimate;
        var r1 = ((UInt128)r0 + m / r0) >> 1;
        var r = r1 > ulong.MaxValue ? ulong.MaxValue : (ulong)r1;
        while ((UInt128)r * r > m) r--;
        while (r != ulong.MaxValue && (UInt128)(r + 1) * (r + 1) <= m) r++;
        return r;
    }

    /// <summary>MINPS and kin: with a NaN (quiet or signalling, IE either way) or two zeros the second source is the result.</summary>
    public static ulong Minimum(ulong a, ulong b, bool d, uint mxcsr, ref uint flags) => MinMax(a, b, d, mxcsr, ref flags, true);

    public static ulong Maximum(ulong a, ulong b, bool d, uint mxcsr, ref uint flags) => MinMax(a, b, d, mxcsr, ref flags, false);

    private static ulong MinMax(ulong a, ulong b, bool d, uint mxcsr, ref uint flags, bool minimum)
    {
        a = Source(a, d, mxcsr);
        b = Source(b, d, mxcsr);
        if (IsNaN(a, d) || IsNaN(b, d))
        {
            flags |= IE;
            return b;
        }
        DenormalOperands(a, b, d, ref flags);
        var order = Order(a, b, d);
        return minimum ? (order < 0 ? a : b) : (order > 0 ? a : b);
    }

    /// <summary>−1, 0 or 1 for two ordered values (zeros equal).</summary>
    private static int Order(ulong a, ulong b, bool d)
    {
        if (d)
        {
            var x = BitConverter.UInt64BitsToDouble(a);
            var y = BitConverter.UInt64BitsToDouble(b);
            return x < y ? -1 : x > y ? 1 : 0;
        }
        var f = BitConverter.UInt32BitsToSingle((uint)a);
        var g = BitConverter.UInt32BitsToSingle((uint)b);
        return f < g ? -1 : f > g ? 1 : 0;
    }

    /// <summary>
    /// Compares for CMPPS/CMPSS/CMPPD/CMPSD and (U)COMISS/(U)COMISD: −1 less, 0 equal, 1 greater, 2 unordered. An SNaN
    /// raises IE; a QNaN raises it too when <paramref name="signalQuiet"/>; denormal operands raise DE.
    /// </summary>
    public static int Compare(ulong a, ulong b, bool d, uint mxcsr, bool signalQuiet, ref uint flags)
    {
        a = Source(a, d, mxcsr);
        b = Source(b, d, mxcsr);
        if (IsNaN(a, d) || IsNaN(b, d))
        {
            if (signalQuiet || IsSignalingNaN(a, d) || IsSignalingNaN(b, d)) flags |= IE;
            return 2;
        }
        DenormalOperands(a, b, d, ref flags);
        return Order(a, b, d);
    }

    /// <summary>
    /// Whether the comparison predicate of CMPPS (0–7, SDM vol. 2, table 3-7) or VCMPPS (0–31, table 3-1; bit 4 changes
    /// only the signalling) holds for a <see cref="Compare"/> outcome.
    /// </summary>
    public static bool Predicate(int predicate, int outcome) => (predicate & 15) switch
    {
        0 => outcome == 0,
        1 => outcome == -1,
        2 => outcome is -1 or 0,
        3 => outcome == 2,
        4 => outcome != 0,
        5 => outcome is not -1,
        6 => outcome is not (-1 or 0),
        7 => outcome != 2,
        8 => outcome is 0 or 2,
        9 => outcome is -1 or 2,
        10 => outcome is not 1,
        11 => false,
        12 => outcome is -1 or 1,
        13 => outcome is 0 or 1,
        14 => outcome == 1,
        _ => true,
    };

    /// <summary>
    /// Whether a predicate signals IE on a QNaN too (the _S/_OS/_US ones of table 3-1): LT, LE, NLT, NLE and for VCMPPS
    /// also NGE, NGT, GE, GT among 0–15, and for 16–31 exactly the others.
    /// </summary>
    public static bool SignalsOnQuietNaN(int predicate) => ((predicate & 3) is 1 or 2) != ((predicate & 16) != 0);

    /// <summary>
    /// Converts to a signed integer of <paramref name="bits"/> bits, rounding per MXCSR.RC or toward zero; NaN,
    /// infinity or a value out of range gives the integer indefinite (the sign bit alone) and IE.
    /// </summary>
    public static ulong ToInteger(ulong x, bool d, int bits, bool truncate, uint mxcsr, ref uint flags)
    {
        var indefinite = 1UL << (bits - 1);
        // Truncation of a normal value well inside the range is the host's conversion; inexact when a fraction was dropped.
        if (truncate && bits == 32 && (d ? (x & 0x7FF0_0000_0000_0000) is > 0 and < 0x41D0_0000_0000_0000 : (x & 0x7F80_0000) is > 0 and < 0x4E80_0000))
        {
            var v = d ? BitConverter.UInt64BitsToDouble(x) : BitConverter.UInt32BitsToSingle((uint)x);
            var t = (int)v;
            if (t != v) flags |= PE;
            return (uint)t;
        }
        x = Source(x, d, mxcsr);
        if (IsNaN(x, d) || IsInfinity(x, d))
        {
            flags |= IE;
            return indefinite;
        }
        if (IsZero(x, d)) return 0;
        Unpack(x, d, out var sign, out var e, out var m);
        var rc = truncate ? RoundingControl.TowardZero : Rc(mxcsr);
        var unbiased = e - ExtendedReal.ExponentBias;
        if (unbiased >= 64)
        {
            flags |= IE;
            return indefinite;
        }
        UInt128 magnitude;
        bool inexact, up;
        if (unbiased < -1)
        {
            magnitude = 0;
            inexact = true;
            up = rc == RoundingControl.Up ? !sign : rc == RoundingControl.Down && sign;
        }
        else
        {
            var full = (UInt128)m << 63;
            var fractionBits = 126 - unbiased;
            magnitude = full >> fractionBits;
            var remainder = full & ((UInt128.One << fractionBits) - 1);
            inexact = remainder != UInt128.Zero;
            var unit = UInt128.One << fractionBits;
            up = Rounding.Increments(sign, magnitude << fractionBits, remainder, unit, rc);
        }
        if (up) magnitude++;
        var limit = sign ? (UInt128)indefinite : (UInt128)indefinite - 1;
        if (magnitude > limit)
        {
            flags |= IE;
            return indefinite;
        }
        if (inexact) flags |= PE;
        var value = sign ? 0UL - (ulong)magnitude : (ulong)magnitude;
        return bits == 64 ? value : value & 0xFFFF_FFFFUL;
    }

    /// <summary>Converts a signed integer, rounding per MXCSR.RC.</summary>
    public static ulong FromInteger(long value, bool d, uint mxcsr, ref uint flags)
    {
        if (value == 0) return 0;
        // Within 2^24 (2^53) the conversion is exact whatever the rounding mode.
        var exactLimit = d ? 1L << 53 : 1L << 24;
        if (value > -exactLimit && value < exactLimit)
            return d ? BitConverter.DoubleToUInt64Bits(value) : BitConverter.SingleToUInt32Bits(value);
        var sign = value < 0;
        var magnitude = sign ? 0UL - (ulong)value : (ulong)value;
        return Round(sign, ExtendedReal.ExponentBias + 127, magnitude, d, mxcsr, ref flags);
    }

    /// <summary>CVTSS2SD, CVTSD2SS and the packed forms: NaNs keep their payload's high bits and are quieted.</summary>
    public static ulong Convert(ulong x, bool fromDouble, uint mxcsr, ref uint flags)
    {
        var to = !fromDouble;
        x = Source(x, fromDouble, mxcsr);
        var sign = Negative(x, fromDouble);
        if (IsNaN(x, fromDouble))
        {
            if (IsSignalingNaN(x, fromDouble)) flags |= IE;
            var payload = fromDouble ? (x & FractionMask(true)) >> 29 : (x & FractionMask(false)) << 29;
            return Infinity(sign, to) | payload | QuietBit(to);
        }
        if (IsInfinity(x, fromDouble)) return Infinity(sign, to);
        if (IsZero(x, fromDouble)) return Zero(sign, to);
        if (IsDenormal(x, fromDouble)) flags |= DE;
        Unpack(x, fromDouble, out _, out var e, out var m);
        return Round(sign, e, (UInt128)m << 64, to, mxcsr, ref flags);
    }

    /// <summary>
    /// RCPSS/RCPPS: an approximation of 1/x (SDM vol. 2, RCPSS: relative error at most 1.5 × 2^−12, no exceptions). Here
    /// 1/x rounded per MXCSR.RC, as QEMU computes it, with the manual's rules where QEMU differs: a denormal source
    /// counts as zero (∞ of its sign) and a tiny result is flushed to zero.
    /// </summary>
    public static ulong Reciprocal(ulong x, uint mxcsr)
    {
        if (IsNaN(x, false)) return Quiet(x, false);
        var sign = Negative(x, false);
        if (IsZero(x, false) || IsDenormal(x, false)) return Infinity(sign, false);
        if (IsInfinity(x, false)) return Zero(sign, false);
        uint ignored = 0;
        var r = Divide(0x3F80_0000, x, false, mxcsr & ~Daz, ref ignored);
        return IsDenormal(r, false) ? Zero(sign, false) : r;
    }

    /// <summary>RSQRTSS/RSQRTPS: 1/sqrt(x) as QEMU computes it (a rounded square root, then a rounded division), no exceptions; a negative source gives the default QNaN, a denormal counts as zero.</summary>
    public static ulong ReciprocalSquareRoot(ulong x, uint mxcsr)
    {
        if (IsNaN(x, false)) return Quiet(x, false);
        var sign = Negative(x, false);
        if (IsZero(x, false) || IsDenormal(x, false)) return Infinity(sign, false);
        if (sign) return DefaultNaN(false);
        if (IsInfinity(x, false)) return 0;
        uint ignored = 0;
        var root = SquareRoot(x, false, mxcsr & ~Daz, ref ignored);
        return Divide(0x3F80_0000, root, false, mxcsr & ~Daz, ref ignored);
    }
}
