using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>The x87 memory operands (SDM vol. 1, 8.2): the real, integer and packed BCD formats read into and written from extended reals.</summary>
public sealed unsafe partial class Processor
{
    private ulong FpuAddress(ref DecodedOp op, ulong ea, int offset) => (ea + (ulong)offset) & (ulong.MaxValue >> op.AddressShift);

    private bool FpuRead80(ref DecodedOp op, ulong ea, out ExtendedReal value)
    {
        value = default;
        if (!ReadMem(op.Segment, ea, 8, out var significand)) return false;
        if (!ReadMem(op.Segment, FpuAddress(ref op, ea, 8), 2, out var signExponent)) return false;
        value = new ExtendedReal((ushort)signExponent, significand);
        return true;
    }

    /// <summary>Checks that all of a wider-than-8-byte destination is writable, so that a fault leaves memory unchanged.</summary>
    private bool FpuProbeWrite(ref DecodedOp op, ulong ea, int size) =>
        ToLinear(op.Segment, ea, size, AccessWrite, out var linear) && ProbeWrite(linear, size);

    private bool FpuWrite80(ref DecodedOp op, ulong ea, ulong low, ushort high)
    {
        if (!FpuProbeWrite(ref op, ea, 10)) return false;
        return WriteMem(op.Segment, ea, 8, low) && WriteMem(op.Segment, FpuAddress(ref op, ea, 8), 2, high);
    }

    /// <summary>
    /// Reads a memory source of an arithmetic or comparison instruction in its format (an <see cref="X87Sub"/> form: 1 real32,
    /// 2 real64, 3 int16, 4 int32) as an extended real, with the #D of a denormal the load detects. An SNaN stays
    /// signaling, so that the operation raises #IA for it and chooses between two NaNs as for register operands.
    /// </summary>
    private bool FpuReadSource(ref DecodedOp op, int format, out ExtendedReal value, out FpuExceptions exceptions)
    {
        value = default;
        exceptions = FpuExceptions.None;
        var ea = FpuOperandAddress;
        switch (format)
        {
            case 1:
            {
                if (!ReadMem(op.Segment, ea, 4, out var bits)) return false;
                FpuSignalingSource(RealConversion.FromBinary32((uint)bits), out value, out exceptions);
                return true;
            }
            case 2:
            {
                if (!ReadMem(op.Segment, ea, 8, out var bits)) return false;
                FpuSignalingSource(RealConversion.FromBinary64(bits), out value, out exceptions);
                return true;
            }
            case 3:
            {
                if (!ReadMem(op.Segment, ea, 2, out var bits)) return false;
                value = IntegerConversion.FromInt16((short)bits);
                return true;
            }
            default:
            {
                if (!ReadMem(op.Segment, ea, 4, out var bits)) return false;
                value = IntegerConversion.FromInt32((int)bits);
                return true;
            }
        }
    }

    /// <summary>A load that quieted an SNaN (and reported #IA for it) gives back the SNaN, without the #IA.</summary>
    private static void FpuSignalingSource(FpuResult loaded, out ExtendedReal value, out FpuExceptions exceptions)
    {
        value = loaded.Value;
        exceptions = loaded.Exceptions;
        if (value.IsNaN && (exceptions & FpuExceptions.Invalid) != 0)
        {
            value = new ExtendedReal(value.SignExponent, value.Significand & ~ExtendedReal.QuietBit);
            exceptions &= ~FpuExceptions.Invalid;
        }
    }
}
