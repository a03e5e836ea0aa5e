using Sim.Cpu.Registers;
using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 control instructions (SDM vol. 1, 5.2.6): FINIT/FNINIT, FCLEX/FNCLEX, FLDCW, FSTCW/FNSTCW, FSTSW/FNSTSW,
/// FSTENV/FNSTENV, FLDENV, FSAVE/FNSAVE, FRSTOR, WAIT, FNOP, FINCSTP, FDECSTP, FFREE. The environment and state images
/// have the 16- and 32-bit, real-address and protected-mode layouts of SDM vol. 1, figures 8-9 to 8-12; 64-bit mode uses
/// the 32-bit protected-mode layout.
/// </summary>
public sealed unsafe partial class Processor
{
    private bool ExecuteX87Control(ref DecodedOp op)
    {
        switch (op.Sub)
        {
            case X87Sub.Wait:
                return FpuWaitingChecks(true) && Next(ref op);
            case X87Sub.NoOperation or X87Sub.IncrementTop or X87Sub.DecrementTop or X87Sub.Free or X87Sub.FreeAndPop:
                if (!FpuBegin(ref op)) return false;
                switch (op.Sub)
                {
                    case X87Sub.IncrementTop:
                        SetFpuTop(FpuTop + 1);
                        _fpuStatus &= unchecked((ushort)~FswC1);
                        break;
                    case X87Sub.DecrementTop:
                        SetFpuTop(FpuTop - 1);
                        _fpuStatus &= unchecked((ushort)~FswC1);
                        break;
                    case X87Sub.Free or X87Sub.FreeAndPop:
                        // C1 is undefined by the SDM; the hardware clears it, as FINCSTP does.
                        _fpuAbridgedTag &= (byte)~(1 << FpuPhysical(op.Rm));
                        _fpuStatus &= unchecked((ushort)~FswC1);
                        if (op.Sub == X87Sub.FreeAndPop) FpuPop();
                        break;
                }
                return Next(ref op);
        }
        var waits = op.R != 0 || op.Sub is X87Sub.LoadControlWord or X87Sub.LoadEnvironment or X87Sub.RestoreState;
        if (waits ? !FpuWaitingChecks(false) : !FpuAvailable()) return false;
        switch (op.Sub)
        {
            case X87Sub.Initialize:
                FpuInitialize();
                return Next(ref op);
            case X87Sub.ClearExceptions:
                _fpuStatus &= 0x7F00;
                _ferrAsserted = false;
                return Next(ref op);
            case X87Sub.LoadControlWord:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), 2, out var cw)) return false;
                _fpuControl = FpuControlWordLoaded(cw);
                FpuRecomputeErrorSummary();
                return Next(ref op);
            }
            case X87Sub.StoreControlWord:
                return WriteMem(op.Segment, EffectiveAddress(ref op), 2, _fpuControl) && Next(ref op);
            case X87Sub.StoreStatusWord:
                return WriteMem(op.Segment, EffectiveAddress(ref op), 2, _fpuStatus) && Next(ref op);
            case X87Sub.StoreStatusWordAx:
                SetReg(0, 2, _fpuStatus);
                return Next(ref op);
            case X87Sub.StoreEnvironment:
            {
                var ea = EffectiveAddress(ref op);
                if (!FpuProbeWrite(ref op, ea, 7 * op.Size) || !FpuStoreEnvironment(ref op, ea)) return false;
                // FSTENV masks every exception after saving the environment, which leaves none pending.
                _fpuControl |= 0x3F;
                FpuRecomputeErrorSummary();
                return Next(ref op);
            }
            case X87Sub.LoadEnvironment:
                return FpuLoadEnvironment(ref op, EffectiveAddress(ref op), out _) && Next(ref op);
            case X87Sub.SaveState:
            {
                var ea = EffectiveAddress(ref op);
                var size = 7 * op.Size;
                if (!FpuProbeWrite(ref op, ea, size + 80) || !FpuStoreEnvironment(ref op, ea)) return false;
                for (var i = 0; i < 8; i++)
                {
                    var value = St(i);
                    if (!FpuWrite80(ref op, FpuAddress(ref op, ea, size + 10 * i), value.Significand, value.SignExponent)) return false;
                }
                FpuInitialize();
                return Next(ref op);
            }
            default:
            {
                var ea = EffectiveAddress(ref op);
                var size = 7 * op.Size;
                // The registers are read first, so that a fault leaves the state as it was.
                Span<ExtendedReal> registers = stackalloc ExtendedReal[8];
                for (var i = 0; i < 8; i++)
                {
                    if (!FpuRead80(ref op, FpuAddress(ref op, ea, size + 10 * i), out registers[i])) return false;
                }
                if (!FpuLoadEnvironment(ref op, ea, out var top)) return false;
                for (var i = 0; i < 8; i++) _fpuRegisters[(top + i) & 7] = registers[i];
                return Next(ref op);
            }
        }
    }

    /// <summary>The control word as loaded: reserved bits 15:13 and 7 read as 0 and bit 6 as 1.</summary>
    private static ushort FpuControlWordLoaded(ulong value) => (ushort)((value & ~0xE0C0UL) | 0x40);

    /// <summary>Whether the environment image has the real-address-mode layout (real-address and virtual-8086 mode).</summary>
    private bool FpuRealModeImage => !InProtectedMode || InVirtual8086Mode;

    private bool FpuStoreEnvironment(ref DecodedOp op, ulong ea)
    {
        NoteStateImageWritten();
        var wide = op.Size == 4;
        var step = op.Size;
        // The reserved upper halves of the 32-bit image read as ones.
        var reserved = wide ? 0xFFFF0000UL : 0;
        Span<ulong> slots = stackalloc ulong[7];
        slots[0] = reserved | _fpuControl;
        slots[1] = reserved | _fpuStatus;
        slots[2] = reserved | FpuTagWord();
        if (FpuRealModeImage)
        {
            var ip = (ulong)(((uint)_fpuInstructionSelector << 4) + (uint)_fpuInstructionPointer);
            var dp = (ulong)(((uint)_fpuDataSelector << 4) + (uint)_fpuDataPointer);
            if (!wide)
            {
                ip &= 0xFFFFF;
                dp &= 0xFFFFF;
            }
            slots[3] = reserved | (ip & 0xFFFF);
            slots[4] = ((ip >> 16) << 12) | (_fpuOpcode & 0x7FFUL);
            slots[5] = reserved | (dp & 0xFFFF);
            slots[6] = (dp >> 16) << 12;
        }
        else
        {
            slots[3] = wide ? (uint)_fpuInstructionPointer : (ushort)_fpuInstructionPointer;
            slots[4] = _fpuInstructionSelector | (wide ? (ulong)(_fpuOpcode & 0x7FF) << 16 : 0);
            slots[5] = wide ? (uint)_fpuDataPointer : (ushort)_fpuDataPointer;
            slots[6] = reserved | _fpuDataSelector;
        }
        for (var i = 0; i < 7; i++)
        {
            if (!WriteMem(op.Segment, FpuAddress(ref op, ea, i * step), step, slots[i])) return false;
        }
        return true;
    }

    /// <summary>FLDENV's part of FLDENV and FRSTOR; <paramref name="top"/> is the TOP of the loaded status word.</summary>
    private bool FpuLoadEnvironment(ref DecodedOp op, ulong ea, out int top)
    {
        top = 0;
        var step = op.Size;
        Span<ulong> slots = stackalloc ulong[7];
        for (var i = 0; i < 7; i++)
        {
            if (!ReadMem(op.Segment, FpuAddress(ref op, ea, i * step), step, out slots[i])) return false;
        }
        _fpuControl = FpuControlWordLoaded(slots[0]);
        _fpuStatus = (ushort)slots[1];
        FpuLoadTagWord((ushort)slots[2]);
        if (FpuRealModeImage)
        {
            _fpuInstructionPointer = (slots[3] & 0xFFFF) | ((slots[4] >> 12) << 16);
            _fpuOpcode = (ushort)(slots[4] & 0x7FF);
            _fpuDataPointer = (slots[5] & 0xFFFF) | ((slots[6] >> 12) << 16);
            if (step == 2)
            {
                _fpuInstructionPointer &= 0xFFFFF;
                _fpuDataPointer &= 0xFFFFF;
            }
            _fpuInstructionSelector = _fpuDataSelector = 0;
        }
        else
        {
            _fpuInstructionPointer = step == 4 ? (uint)slots[3] : (ushort)slots[3];
            _fpuInstructionSelector = (ushort)slots[4];
            _fpuOpcode = step == 4 ? (ushort)((slots[4] >> 16) & 0x7FF) : (ushort)0;
            _fpuDataPointer = step == 4 ? (uint)slots[5] : (ushort)slots[5];
            _fpuDataSelector = (ushort)slots[6];
        }
        FpuRecomputeErrorSummary();
        top = FpuTop;
        return true;
    }
}
