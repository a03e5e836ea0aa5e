using System.Runtime.CompilerServices;
using Sim.Cpu.Bus;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// What every x87 instruction checks before it executes (SDM vol. 3, 2.5 and table 2-2; vol. 1, 8.7): CR0.EM or CR0.TS
/// raise #NM (WAIT only when CR0.MP and CR0.TS are set); a waiting instruction then reports a pending unmasked
/// exception (FSW.ES) by #MF when CR0.NE = 1, or by asserting FERR# when CR0.NE = 0. A non-control instruction then
/// records its opcode, its address and its memory operand's address in FOP, FIP/FCS and FDP/FDS.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>The platform's FERR# input, IRQ 13 on a PC; without it a CR0.NE = 0 report is dropped.</summary>
    public IFpuErrorSignal? FpuErrorSignal { get; set; }

    /// <summary>FERR# stays asserted from a report until the exception flags are cleared or reloaded.</summary>
    private bool _ferrAsserted;

    /// <summary>The entry of a waiting non-control instruction; false when it faulted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool FpuBegin(ref DecodedOp op)
    {
        if (((Cr0 & (Registers.Cr0.EM | Registers.Cr0.TS)) | (uint)(_fpuStatus & FswErrorSummary)) != 0 && !FpuWaitingChecks(false)) return false;
        _fpuOpcode = op.Imm16;
        _fpuInstructionPointer = Rip;
        _fpuInstructionSelector = _seg[(int)SegmentIndex.CS].Selector;
        if ((op.Flags & OpFlags.Memory) != 0)
        {
            _fpuDataPointer = EffectiveAddress(ref op);
            _fpuDataSelector = _seg[op.Segment].Selector;
        }
        return true;
    }

    /// <summary>The effective address of the memory operand, which <see cref="FpuBegin"/> has recorded in FDP.</summary>
    private ulong FpuOperandAddress => _fpuDataPointer;

    /// <summary>#NM, then (for a waiting instruction) the pending-exception report; false when a fault was raised.</summary>
    private bool FpuWaitingChecks(bool isWait)
    {
        if (isWait)
        {
            if ((Cr0 & (Registers.Cr0.MP | Registers.Cr0.TS)) == (Registers.Cr0.MP | Registers.Cr0.TS)) return RaiseFault(ExceptionVector.NM, 0);
        }
        else if ((Cr0 & (Registers.Cr0.EM | Registers.Cr0.TS)) != 0) return RaiseFault(ExceptionVector.NM, 0);
        if ((_fpuStatus & FswErrorSummary) == 0) return true;
        if ((Cr0 & Registers.Cr0.NE) != 0) return RaiseFault(ExceptionVector.MF, 0);
        // The legacy report: FERR# goes to the interrupt controller and, as with IGNNE# asserted, the instruction goes on.
        if (!_ferrAsserted)
        {
            _ferrAsserted = true;
            FpuErrorSignal?.AssertFerr();
            _stopBlock = true;
        }
        return true;
    }

    /// <summary>The entry of a non-waiting control instruction (FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE).</summary>
    private bool FpuAvailable() =>
        (Cr0 & (Registers.Cr0.EM | Registers.Cr0.TS)) == 0 || RaiseFault(ExceptionVector.NM, 0);
}
