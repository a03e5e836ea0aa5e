using Sim.Cpu;
using Sim.Cpu.Registers;

namespace Sim.Vmx;

/// <summary>
/// The pending-debug-exceptions guest-state field on VM exit (SDM vol. 3, 27.3.4): the debug
/// exceptions a VM exit overtook. The processor's only debug trap is the single step, so what can
/// be pending is BS (bit 14), and B0–B3 or bit 12 as VM entry loaded them.
/// </summary>
public sealed partial class VmxUnit
{
    private const ulong PendingBs = 1UL << 14;
    private const ulong PendingDebugBits = 0x500F;

    /// <summary>Debug exceptions pending in the guest that a VM exit must save: loaded at entry and not yet delivered, or a single step an exit overtook.</summary>
    private ulong _heldDebugExceptions;

    /// <summary>A trap-like exit (TPR below threshold) saved the single step of its instruction: the processor's #DB for it must not reach the host.</summary>
    private bool _dropSingleStep;

    /// <summary>A single step of the instruction just executed is pending: TF was set and IA32_DEBUGCTL.BTF clear (the entry checks' rule, 27.3.1.5).</summary>
    private bool SingleStepPending => (_cpu.Flags & Rflags.TF) != 0 && (_cpu.DebugCtl & 2) == 0;

    /// <summary>
    /// 27.3.4: saved as clear except for MTF, TPR-below-threshold and INIT exits, which keep the
    /// debug exceptions pending then, and for exits other than a #DB's under blocking by MOV SS,
    /// where the MOV SS's single step (BS, set only with TF = 1 and BTF = 0) is still pending.
    /// </summary>
    private ulong PendingDebugExceptionsAtExit(VmExitReason reason, uint interruptionInformation)
    {
        var held = _heldDebugExceptions & PendingDebugBits;
        _heldDebugExceptions = 0;
        if (reason is VmExitReason.MonitorTrapFlag or VmExitReason.TprBelowThreshold or VmExitReason.InitSignal)
            return held | (_cpu.BlockingByMovSs && SingleStepPending ? PendingBs : 0);
        var debugException = reason == VmExitReason.ExceptionOrNmi && (interruptionInformation & 0x800007FF) == (0x80000000u | (3u << 8) | 1);
        if (debugException || !_cpu.BlockingByMovSs) return 0;
        return held | (SingleStepPending ? PendingBs : 0);
    }

    /// <summary>
    /// The single-step #DB of a guest instruction with the monitor trap flag: the MTF VM exit
    /// takes priority over the debug trap (25.5.2), which stays pending in the guest state.
    /// </summary>
    private bool MtfOvertakesSingleStep()
    {
        if (!MtfDue()) return false;
        _heldDebugExceptions |= _cpu.PendingDebugStatus & PendingDebugBits;
        MtfExit();
        return true;
    }

    /// <summary>The #DB the processor raises for the single step of an instruction whose trap-like exit already saved it.</summary>
    private bool DropSingleStep(int vector)
    {
        if (!_dropSingleStep || vector != ExceptionVector.DB) return false;
        _dropSingleStep = false;
        return true;
    }
}
