using Sim.Cpu.Registers;
using Sim.Vmx;

namespace Sim.Microkernels.Nova;

/// <summary>
/// What NOVA's <c>Vmcs::init</c> derives from the VMX capability MSRs (alex-ab/NOVA r10 src/vmx.cpp) and the CR0/CR4
/// guest/host masks of <c>Cpu_regs</c> (src/regs.cpp): the control bits it forces on and allows, the fixed CR bits, and
/// the CR0/CR3/CR4 views it reports and writes. The processor offers EPT, VPID and unrestricted guest, so PE and PG are
/// not fixed and NOVA never switches to its vTLB when the guest turns paging off.
/// </summary>
public static class NovaVmx
{
    public const uint PinControls = PinBasedControls.ExternalInterruptExiting | PinBasedControls.NmiExiting | PinBasedControls.VirtualNmis;

    /// <summary><c>ctrl_cpu[0].set</c>: the TRUE MSR's default-1 bits and HLT, unconditional I/O, I/O and MSR bitmaps, secondary controls.</summary>
    public const uint Primary0Set = ProcessorBasedControls.TrueDefault1 | ProcessorBasedControls.HltExiting | ProcessorBasedControls.UnconditionalIoExiting
        | ProcessorBasedControls.UseIoBitmaps | ProcessorBasedControls.UseMsrBitmaps | ProcessorBasedControls.ActivateSecondaryControls;

    public const uint Primary0Allowed = ProcessorBasedControls.Allowed1;

    /// <summary><c>ctrl_cpu[1].set</c>: VPID and unrestricted guest.</summary>
    public const uint Secondary1Set = SecondaryProcessorBasedControls.EnableVpid | SecondaryProcessorBasedControls.UnrestrictedGuest;

    public const uint Secondary1Allowed = SecondaryProcessorBasedControls.Allowed1;

    /// <summary>Forced clear when nested paging is on (set when off): INVLPG and CR3-load/store exiting.</summary>
    public const uint NestedPagingPrimaryMask = ProcessorBasedControls.InvlpgExiting | ProcessorBasedControls.Cr3LoadExiting | ProcessorBasedControls.Cr3StoreExiting;

    public const uint ExitControls = VmExitControls.AcknowledgeInterruptOnExit | VmExitControls.SaveIa32Efer | VmExitControls.LoadIa32Efer | VmExitControls.HostAddressSpaceSize;

    public const uint EntryControls = VmEntryControls.LoadIa32Efer;

    public const ulong FixCr0Set = VmxCapability.Cr0Fixed0 & ~(Cr0.PG | Cr0.PE);
    public const ulong FixCr0Clr = ~VmxCapability.Cr0Fixed1 | Cr0.CD | Cr0.NW;
    public const ulong FixCr4Set = VmxCapability.Cr4Fixed0;
    public const ulong FixCr4Clr = ~VmxCapability.Cr4Fixed1;

    /// <summary>Exception bitmap of <c>set_exc</c>: #AC always, #PF without nested paging, #NM while the guest does not own the FPU.</summary>
    public static uint ExceptionBitmap(VcpuRegisters regs) => 1u << 17 | (regs.NestedPaging ? 0 : 1u << 14) | (regs.FpuOn ? 0 : 1u << 7);

    public static ulong Cr0Set(VcpuRegisters regs, ulong fixSet) =>
        fixSet | (regs.NestedPaging ? 0 : Cr0.PG | Cr0.WP | Cr0.PE) | (regs.FpuOn ? 0 : Cr0.TS);

    public static ulong Cr0Mask(VcpuRegisters regs, ulong fixSet, ulong fixClr) => fixClr | Cr0Set(regs, fixSet);

    public static ulong Cr4Set(VcpuRegisters regs, ulong fixSet) => fixSet | (regs.NestedPaging ? 0 : Cr4.PSE | Cr4.PAE);

    public static ulong Cr4Mask(VcpuRegisters regs, ulong fixSet, ulong fixClr) => fixClr | (regs.NestedPaging ? 0 : Cr4.PGE) | Cr4Set(regs, fixSet);

    /// <summary><c>vmx_set_cpu_ctrl0</c>: the primary controls NOVA writes for a requested value.</summary>
    public static uint PrimaryControls(VcpuRegisters regs, uint value)
    {
        value = regs.NestedPaging ? value & ~NestedPagingPrimaryMask : value | NestedPagingPrimaryMask;
        return (value | Primary0Set) & Primary0Allowed;
    }

    /// <summary><c>vmx_set_cpu_ctrl1</c>: EPT follows nested paging; VPID and unrestricted guest forced.</summary>
    public static uint SecondaryControls(VcpuRegisters regs, uint value)
    {
        value = regs.NestedPaging ? value | SecondaryProcessorBasedControls.EnableEpt : value & ~SecondaryProcessorBasedControls.EnableEpt;
        return (value | Secondary1Set) & Secondary1Allowed;
    }
}
