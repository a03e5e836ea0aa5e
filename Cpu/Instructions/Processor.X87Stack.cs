using System.Runtime.CompilerServices;
using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 register stack (SDM vol. 1, 8.1.2): ST(i) is physical register R[(TOP + i) mod 8], TOP in FSW[13:11]; the
/// abridged tag marks the registers in use. Pushing onto a full register or reading an empty one is a stack fault
/// (SDM vol. 1, 8.5.1.1): #IS with C1 = 1 for overflow and C1 = 0 for underflow.
/// </summary>
public sealed unsafe partial class Processor
{
    private const ushort FswStackFault = 1 << 6;
    private const ushort FswErrorSummary = 1 << 7;
    private const ushort FswC1 = 1 << 9;
    private const ushort FswTop = 7 << 11;
    private const ushort FswBusy = 1 << 15;

    private int FpuTop => (_fpuStatus >> 11) & 7;

    private FpuControlWord FpuCw => new(_fpuControl);

    private void SetFpuTop(int top) => _fpuStatus = (ushort)((_fpuStatus & ~FswTop) | ((top & 7) << 11));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FpuPhysical(int i) => (FpuTop + i) & 7;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool FpuIsEmpty(int i) => (_fpuAbridgedTag & (1 << FpuPhysical(i))) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ExtendedReal St(int i) => ref _fpuRegisters[FpuPhysical(i)];

    private void FpuSetSt(int i, ExtendedReal value)
    {
        var r = FpuPhysical(i);
        _fpuRegisters[r] = value;
        _fpuAbridgedTag |= (byte)(1 << r);
    }

    private void FpuPop()
    {
        var top = FpuTop;
        _fpuAbridgedTag &= (byte)~(1 << top);
        SetFpuTop(top + 1);
    }

    /// <summary>Pushes without the overflow check, which the caller has made.</summary>
    private void FpuPush(ExtendedReal value)
    {
        var top = (FpuTop - 1) & 7;
        SetFpuTop(top);
        _fpuRegisters[top] = value;
        _fpuAbridgedTag |= (byte)(1 << top);
    }

    /// <summary>Whether a push would overwrite a register in use, ST(7).</summary>
    private bool FpuPushOverflows => (_fpuAbridgedTag & (1 << ((FpuTop - 1) & 7))) != 0;

    /// <summary>
    /// A push onto a full stack completes the instruction: #IS with C1 = 1 and, masked, the real indefinite pushed;
    /// unmasked, the stack is left as it was.
    /// </summary>
    private bool FpuStackOverflow(ref DecodedOp op)
    {
        FpuStackFault(true);
        if (FpuCw.IsMasked(FpuExceptions.Invalid)) FpuPush(ExtendedReal.RealIndefinite);
        return Next(ref op);
    }

    /// <summary>An empty source register: #IS with C1 = 0; whether the invalid-operation exception is unmasked, which stops the instruction.</summary>
    private bool FpuStackUnderflow()
    {
        FpuStackFault(false);
        return !FpuCw.IsMasked(FpuExceptions.Invalid);
    }

    private void FpuStackFault(bool overflow)
    {
        _fpuStatus = (ushort)((_fpuStatus & ~FswC1) | (overflow ? FswC1 : 0) | FswStackFault);
        FpuSignal(FpuExceptions.Invalid);
    }

    /// <summary>ORs exception flags into FSW; an unmasked one sets ES and B, to be reported at the next waiting instruction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FpuSignal(FpuExceptions exceptions)
    {
        if (exceptions == FpuExceptions.None) return;
        var status = _fpuStatus | (int)exceptions;
        if ((exceptions & ~(FpuExceptions)(_fpuControl & 0x3F)) != 0) status |= FswErrorSummary | FswBusy;
        _fpuStatus = (ushort)status;
    }

    /// <summary>A result's exceptions and C1 (rounded up), as the arithmetic instructions report them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FpuReport(FpuExceptions exceptions, bool roundedUp)
    {
        _fpuStatus = (ushort)((_fpuStatus & ~FswC1) | (roundedUp ? FswC1 : 0));
        FpuSignal(exceptions);
    }

    private void FpuSetConditionCodes(ConditionCodes codes) =>
        _fpuStatus = (ushort)((_fpuStatus & ~ConditionCodes.Mask) | codes.StatusWordBits);

    /// <summary>ES and B follow the flags and masks after FLDCW, FLDENV and FRSTOR: an unmasked flag is pending.</summary>
    private void FpuRecomputeErrorSummary()
    {
        var pending = (_fpuStatus & ~_fpuControl & 0x3F) != 0;
        _fpuStatus = (ushort)(pending ? _fpuStatus | FswErrorSummary | FswBusy : _fpuStatus & ~(FswErrorSummary | FswBusy));
        if (!pending) _ferrAsserted = false;
    }

    /// <summary>
    /// The full tag of physical register <paramref name="r"/> for FSTENV and FSAVE (SDM vol. 1, 8.1.7): 00 valid, 01 zero,
    /// 10 special (NaN, infinity, denormal, unsupported), 11 empty.
    /// </summary>
    private int FpuFullTag(int r)
    {
        if ((_fpuAbridgedTag & (1 << r)) == 0) return 3;
        var value = _fpuRegisters[r];
        return value.Class switch
        {
            ExtendedRealClass.Zero => 1,
            ExtendedRealClass.Normal => 0,
            _ => 2,
        };
    }

    private ushort FpuTagWord()
    {
        var tags = 0;
        for (var r = 0; r < 8; r++) tags |= FpuFullTag(r) << (2 * r);
        return (ushort)tags;
    }

    /// <summary>FLDENV and FRSTOR keep from a tag word only whether each register is empty.</summary>
    private void FpuLoadTagWord(ushort tags)
    {
        byte abridged = 0;
        for (var r = 0; r < 8; r++)
        {
            if (((tags >> (2 * r)) & 3) != 3) abridged |= (byte)(1 << r);
        }
        _fpuAbridgedTag = abridged;
    }

    /// <summary>FNINIT's state (SDM vol. 3, table 9-1): FCW 037Fh, FSW 0, every register empty, pointers and opcode 0.</summary>
    private void FpuInitialize()
    {
        _fpuControl = X87.FpuControlWord.Default.Value;
        _fpuStatus = 0;
        _fpuAbridgedTag = 0;
        _fpuOpcode = 0;
        _fpuInstructionPointer = _fpuDataPointer = 0;
        _fpuInstructionSelector = _fpuDataSelector = 0;
        _ferrAsserted = false;
    }
}
