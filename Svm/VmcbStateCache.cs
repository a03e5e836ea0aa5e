using Sim.Cpu.Registers;

namespace Sim.Svm;

/// <summary>
/// The processor's copy of the clean-able VMCB groups (AMD APM vol. 2, 15.15.3): what the last
/// VMRUN loaded and the last #VMEXIT stored, for the VMCB at <see cref="Vmcb"/>. VMRUN takes a
/// group from here instead of memory when that VMCB is run again with the group's clean bit set.
/// The fields are also the unit's working copy of the control area while a guest runs.
/// </summary>
internal sealed class VmcbStateCache
{
    public const ulong NoVmcb = ulong.MaxValue;

    public ulong Vmcb = NoVmcb;

    public uint InterceptCr;
    public uint InterceptDr;
    public uint InterceptExceptions;
    public uint InterceptMisc1;
    public uint InterceptMisc2;
    public uint InterceptMisc3;
    public ulong TscOffset;
    public ushort PauseFilterCount;
    public ushort PauseFilterThreshold;

    public ulong IopmBasePa;
    public ulong MsrpmBasePa;

    public uint Asid;

    /// <summary>The quadword at 060h: V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_INTR_VECTOR.</summary>
    public ulong VIntr;

    public bool NpEnable;
    public ulong NCr3;
    public ulong GPat;

    public ulong Cr0;
    public ulong Cr3;
    public ulong Cr4;
    public ulong Efer;

    public ulong Dr6;
    public ulong Dr7;

    public DescriptorTableRegister Gdtr;
    public DescriptorTableRegister Idtr;

    public SegmentRegister Es;
    public SegmentRegister Cs;
    public SegmentRegister Ss;
    public SegmentRegister Ds;
    public int Cpl;

    public ulong Cr2;

    public bool Intercepts(SvmIntercept intercept)
    {
        var word = (int)intercept >> 5;
        var bits = word switch { 3 => InterceptMisc1, 4 => InterceptMisc2, _ => InterceptMisc3 };
        return (bits & (1u << ((int)intercept & 31))) != 0;
    }
}
