using Sim.Cpu.Registers;
using Sim.Vmx.Ept;

namespace Sim.Vmx;

/// <summary>
/// The VMX capability MSRs (SDM vol. 3, appendix A) describing what this unit implements:
/// TRUE_ controls, unrestricted guest, EPT with A/D flags, VPID, the VMX-preemption timer, TPR
/// shadow, HLT/shutdown/wait-for-SIPI activity states, four CR3-target values.
/// </summary>
public static class VmxCapability
{
    public const uint Ia32VmxBasic = 0x480;
    public const uint Ia32VmxPinbasedCtls = 0x481;
    public const uint Ia32VmxProcbasedCtls = 0x482;
    public const uint Ia32VmxExitCtls = 0x483;
    public const uint Ia32VmxEntryCtls = 0x484;
    public const uint Ia32VmxMisc = 0x485;
    public const uint Ia32VmxCr0Fixed0 = 0x486;
    public const uint Ia32VmxCr0Fixed1 = 0x487;
    public const uint Ia32VmxCr4Fixed0 = 0x488;
    public const uint Ia32VmxCr4Fixed1 = 0x489;
    public const uint Ia32VmxVmcsEnum = 0x48A;
    public const uint Ia32VmxProcbasedCtls2 = 0x48B;
    public const uint Ia32VmxEptVpidCap = 0x48C;
    public const uint Ia32VmxTruePinbasedCtls = 0x48D;
    public const uint Ia32VmxTrueProcbasedCtls = 0x48E;
    public const uint Ia32VmxTrueExitCtls = 0x48F;
    public const uint Ia32VmxTrueEntryCtls = 0x490;

    /// <summary>The VMCS revision identifier of this implementation's layout.</summary>
    public const uint VmcsRevisionId = 1;

    /// <summary>The VMX-preemption timer counts down by 1 each time bit 5 of the TSC changes.</summary>
    public const int PreemptionTimerRate = 5;

    public const int Cr3TargetValues = 4;

    /// <summary>Revision, 4-KiB region, write-back VMCS memory type (bits 53:50 = 6), INS/OUTS information (bit 54), TRUE_ controls (bit 55).</summary>
    public const ulong Basic = VmcsRevisionId | (4096UL << 32) | (6UL << 50) | (1UL << 54) | (1UL << 55);

    /// <summary>Timer rate, EFER.LMA stored into "IA-32e mode guest" on exit (bit 5), HLT/shutdown/wait-for-SIPI (bits 6–8), CR3-target count (24:16), 512 MSR-list entries (27:25 = 0).</summary>
    public const ulong Misc = PreemptionTimerRate | (1UL << 5) | (1UL << 6) | (1UL << 7) | (1UL << 8) | ((ulong)Cr3TargetValues << 16);

    public const ulong Cr0Fixed0 = Cr0.PE | Cr0.NE | Cr0.PG;

    /// <summary>
    /// Every bit of CR0's low half may be 1, the reserved ones too, and none of its high half (A.7):
    /// what hardware reports, and KVM and Bochs with it. Reserved CR0 bits are therefore not VMX's
    /// concern; MOV to CR0 and the VM transitions deal with them.
    /// </summary>
    public const ulong Cr0Fixed1 = 0xFFFFFFFF;

    public const ulong Cr4Fixed0 = Cr4.VMXE;

    /// <summary>The CR4 bits this processor implements (A.8): any other is fixed to 0.</summary>
    public const ulong Cr4Fixed1 = Cr4.Supported;

    /// <summary>Whether <paramref name="value"/> keeps the bits a FIXED0/FIXED1 pair fixes (24.8, A.7, A.8).</summary>
    public static bool WithinFixedBits(ulong value, ulong fixed0, ulong fixed1) => (~value & fixed0) == 0 && (value & ~fixed1) == 0;

    public static bool Cr0Allowed(ulong cr0, ulong fixed0 = Cr0Fixed0) => WithinFixedBits(cr0, fixed0, Cr0Fixed1);

    public static bool Cr4Allowed(ulong cr4) => WithinFixedBits(cr4, Cr4Fixed0, Cr4Fixed1);

    private static ulong Controls(uint allowed0, uint allowed1) => allowed0 | ((ulong)allowed1 << 32);

    /// <summary>The value of a capability MSR; false for an index that is not one.</summary>
    public static bool TryRead(uint index, out ulong value)
    {
        value = index switch
        {
            Ia32VmxBasic => Basic,
            Ia32VmxPinbasedCtls or Ia32VmxTruePinbasedCtls => Controls(PinBasedControls.Default1, PinBasedControls.Allowed1),
            Ia32VmxProcbasedCtls => Controls(ProcessorBasedControls.Default1, ProcessorBasedControls.Allowed1),
            Ia32VmxTrueProcbasedCtls => Controls(ProcessorBasedControls.TrueDefault1, ProcessorBasedControls.Allowed1),
            Ia32VmxExitCtls => Controls(VmExitControls.Default1, VmExitControls.Allowed1),
            Ia32VmxTrueExitCtls => Controls(VmExitControls.TrueDefault1, VmExitControls.Allowed1),
            Ia32VmxEntryCtls => Controls(VmEntryControls.Default1, VmEntryControls.Allowed1),
            Ia32VmxTrueEntryCtls => Controls(VmEntryControls.TrueDefault1, VmEntryControls.Allowed1),
            Ia32VmxMisc => Misc,
            Ia32VmxCr0Fixed0 => Cr0Fixed0,
            Ia32VmxCr0Fixed1 => Cr0Fixed1,
            Ia32VmxCr4Fixed0 => Cr4Fixed0,
            Ia32VmxCr4Fixed1 => Cr4Fixed1,
            Ia32VmxVmcsEnum => Vmcs.HighestIndex << 1,
            Ia32VmxProcbasedCtls2 => Controls(0, SecondaryProcessorBasedControls.Allowed1),
            Ia32VmxEptVpidCap => EptVpidCapability.Value,
            _ => ulong.MaxValue,
        };
        if (value != ulong.MaxValue) return true;
        value = 0;
        return false;
    }
}
