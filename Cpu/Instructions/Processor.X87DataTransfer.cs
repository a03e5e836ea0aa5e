using Sim.Cpu.Registers;
using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 data transfer instructions (SDM vol. 1, 5.2.1): FLD, FST, FSTP, FILD, FIST, FISTP, FISTTP, FBLD, FBSTP, FXCH
/// and FCMOVcc. A store whose unmasked #IA, #O or #U suppresses it leaves memory and the stack unchanged.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool X87Transfer(Processor p, ref DecodedOp op) => p.ExecuteX87Transfer(ref op);

    private bool ExecuteX87Transfer(ref DecodedOp op)
    {
        if (!FpuBegin(ref op)) return false;
        switch (op.Sub)
        {
            case X87Sub.LoadRegister:
            {
                // An empty source is reported before a full destination, as an underflow.
                if (FpuIsEmpty(op.Rm))
                {
                    if (FpuStackUnderflow()) return Next(ref op);
                    FpuPush(ExtendedReal.RealIndefinite);
                    return Next(ref op);
                }
                if (FpuPushOverflows) return FpuStackOverflow(ref op);
                var value = St(op.Rm);
                FpuReport(FpuExceptions.None, false);
                FpuPush(value);
                return Next(ref op);
            }
            case X87Sub.LoadReal32 or X87Sub.LoadReal64 or X87Sub.LoadReal80 or X87Sub.LoadInt16 or X87Sub.LoadInt32 or X87Sub.LoadInt64 or X87Sub.LoadBcd:
                return FpuLoadMemory(ref op);
            case X87Sub.StoreRegister:
            {
                var pop = op.R != 0;
                if (FpuIsEmpty(0))
                {
                    if (FpuStackUnderflow()) return Next(ref op);
                    FpuSetSt(op.Rm, ExtendedReal.RealIndefinite);
                }
                else
                {
                    FpuReport(FpuExceptions.None, false);
                    FpuSetSt(op.Rm, St(0));
                }
                if (pop) FpuPop();
                return Next(ref op);
            }
            case X87Sub.Exchange:
            {
                if (FpuIsEmpty(0) || FpuIsEmpty(op.Rm))
                {
                    if (FpuStackUnderflow()) return Next(ref op);
                    if (FpuIsEmpty(0)) FpuSetSt(0, ExtendedReal.RealIndefinite);
                    if (FpuIsEmpty(op.Rm)) FpuSetSt(op.Rm, ExtendedReal.RealIndefinite);
                }
                else
                {
                    FpuReport(FpuExceptions.None, false);
                }
                (St(0), St(op.Rm)) = (St(op.Rm), St(0));
                return Next(ref op);
            }
            case X87Sub.ConditionalMove:
                if (FpuIsEmpty(0) || FpuIsEmpty(op.Rm))
                {
                    if (!FpuStackUnderflow()) FpuSetSt(0, ExtendedReal.RealIndefinite);
                    return Next(ref op);
                }
                // C1 is left alone here; only an underflow clears it.
                if (Condition(op.R)) St(0) = St(op.Rm);
                return Next(ref op);
            case X87Sub.LoadConstant:
                return LoadConstant(ref op);
            default:
                return FpuStoreMemory(ref op);
        }
    }

    private bool FpuLoadMemory(ref DecodedOp op)
    {
        var ea = FpuOperandAddress;
        FpuResult loaded;
        switch (op.Sub)
        {
            case X87Sub.LoadReal32:
            {
                if (!ReadMem(op.Segment, ea, 4, out var bits)) return false;
                loaded = RealConversion.FromBinary32((uint)bits);
                break;
            }
            case X87Sub.LoadReal64:
            {
                if (!ReadMem(op.Segment, ea, 8, out var bits)) return false;
                loaded = RealConversion.FromBinary64(bits);
                break;
            }
            case X87Sub.LoadReal80:
            {
                if (!FpuRead80(ref op, ea, out var value)) return false;
                loaded = new(value, FpuExceptions.None);
                break;
            }
            case X87Sub.LoadInt16:
            {
                if (!ReadMem(op.Segment, ea, 2, out var bits)) return false;
                loaded = new(IntegerConversion.FromInt16((short)bits), FpuExceptions.None);
                break;
            }
            case X87Sub.LoadInt32:
            {
                if (!ReadMem(op.Segment, ea, 4, out var bits)) return false;
                loaded = new(IntegerConversion.FromInt32((int)bits), FpuExceptions.None);
                break;
            }
            case X87Sub.LoadInt64:
            {
                if (!ReadMem(op.Segment, ea, 8, out var bits)) return false;
                loaded = new(IntegerConversion.FromInt64((long)bits), FpuExceptions.None);
                break;
            }
            default:
            {
                if (!ReadMem(op.Segment, ea, 8, out var low)) return false;
                if (!ReadMem(op.Segment, FpuAddress(ref op, ea, 8), 2, out var high)) return false;
                loaded = new(BcdConversion.Load(new PackedBcd((ushort)high, low)), FpuExceptions.None);
                break;
            }
        }
        if (FpuPushOverflows) return FpuStackOverflow(ref op);
        var cw = FpuCw;
        // FLD m32/m64 of a denormal completes even with #D unmasked (as the host's x87 does); an unmasked #IA stops it.
        if ((loaded.Exceptions & ~cw.Masks & FpuExceptions.Invalid) != 0)
        {
            FpuSignal(FpuExceptions.Invalid);
            return Next(ref op);
        }
        FpuReport(loaded.Exceptions, false);
        FpuPush(loaded.Value);
        return Next(ref op);
    }

    private bool FpuStoreMemory(ref DecodedOp op)
    {
        var ea = FpuOperandAddress;
        var pop = op.R != 0;
        var cw = FpuCw;
        var empty = FpuIsEmpty(0);
        if (empty && FpuStackUnderflow()) return Next(ref op);
        var value = empty ? ExtendedReal.RealIndefinite : St(0);
        ConversionResult r;
        switch (op.Sub)
        {
            case X87Sub.StoreReal80:
                if (!FpuWrite80(ref op, ea, value.Significand, value.SignExponent)) return false;
                if (!empty) FpuReport(FpuExceptions.None, false);
                if (pop) FpuPop();
                return Next(ref op);
            case X87Sub.StoreBcd:
            {
                var b = empty ? new BcdResult(PackedBcd.Indefinite, FpuExceptions.None) : BcdConversion.Store(value, cw);
                if (b.IsWritten(cw))
                {
                    if (!FpuWrite80(ref op, ea, b.Value.Low, b.Value.High)) return false;
                }
                else if (!FpuProbeWrite(ref op, ea, 10)) return false;
                if (!empty) FpuReport(b.Exceptions, b.RoundedUp);
                if (pop && b.IsWritten(cw)) FpuPop();
                return Next(ref op);
            }
            case X87Sub.StoreReal32: r = empty ? new(0xFFC00000, FpuExceptions.None) : RealConversion.ToBinary32(value, cw); break;
            case X87Sub.StoreReal64: r = empty ? new(0xFFF8000000000000, FpuExceptions.None) : RealConversion.ToBinary64(value, cw); break;
            case X87Sub.StoreInt16: r = empty ? new(IntegerConversion.Indefinite(16), FpuExceptions.None) : IntegerConversion.ToInt16(value, cw); break;
            case X87Sub.StoreInt32: r = empty ? new(IntegerConversion.Indefinite(32), FpuExceptions.None) : IntegerConversion.ToInt32(value, cw); break;
            case X87Sub.StoreInt64: r = empty ? new(IntegerConversion.Indefinite(64), FpuExceptions.None) : IntegerConversion.ToInt64(value, cw); break;
            case X87Sub.StoreTruncInt16: r = empty ? new(IntegerConversion.Indefinite(16), FpuExceptions.None) : IntegerConversion.TruncateToInt16(value); break;
            case X87Sub.StoreTruncInt32: r = empty ? new(IntegerConversion.Indefinite(32), FpuExceptions.None) : IntegerConversion.TruncateToInt32(value); break;
            default: r = empty ? new(IntegerConversion.Indefinite(64), FpuExceptions.None) : IntegerConversion.TruncateToInt64(value); break;
        }
        var size = op.Sub switch
        {
            X87Sub.StoreInt16 or X87Sub.StoreTruncInt16 => 2,
            X87Sub.StoreReal32 or X87Sub.StoreInt32 or X87Sub.StoreTruncInt32 => 4,
            _ => 8,
        };
        var written = r.IsWritten(cw);
        if (written)
        {
            if (!WriteMem(op.Segment, ea, size, r.Bits)) return false;
        }
        else if (!ToLinear(op.Segment, ea, size, AccessWrite, out var linear) || !ProbeWrite(linear, size)) return false;
        if (!empty) FpuReport(r.Exceptions, r.RoundedUp);
        if (pop && written) FpuPop();
        return Next(ref op);
    }
}
