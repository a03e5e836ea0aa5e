using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// What the processor can say about its own progress, so that a machine scheduling several of them
/// knows which can run and when a sleeping one wakes: running, or woken by something it has
/// latched (INIT, SIPI, NMI, an interrupt it accepts), or by a device event, or by its own deadline
/// (<see cref="EventDeadline"/>, the VMX-preemption timer, which counts down in HLT).
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>Whether <see cref="Run"/> would do something now rather than return at once as halted.</summary>
    public bool CanMakeProgress
    {
        get
        {
            if (Activity == ActivityState.Active) return true;
            if (_initPending && !_initBlocked && _globalInterruptFlag) return true;
            if (Activity == ActivityState.WaitForSipi) return _sipiVector >= 0;
            if (Activity != ActivityState.Hlt || !_globalInterruptFlag) return false;
            if (_nmiPending && !_nmiBlocked) return true;
            return WakesOnInterrupt && InterruptSource is { InterruptPending: true };
        }
    }

    /// <summary>Whether a maskable interrupt would end its halt: IF set, or in a guest whose interrupts exit regardless of IF.</summary>
    public bool WakesOnInterrupt =>
        Activity == ActivityState.Hlt && _globalInterruptFlag && ((_flags & Rflags.IF) != 0 || _interruptFlagIgnored);
}
