using Sim.Svm;

namespace Sim.Microkernels.Nova;

/// <summary>
/// NOVA's SVM intercept policy (alex-ab/NOVA r10 include/svm.hpp, src/regs.cpp <c>svm_set_cpu_ctrl0/1</c>): the intercepts
/// it always sets, and how the CR intercepts and INVLPG follow nested paging. SVM has no fixed CR bits, so the CR masks
/// are NOVA's own (none with nested paging and an eagerly switched FPU).
/// </summary>
public static class NovaSvm
{
    public const uint CpuIntr = 1u << 0, CpuNmi = 1u << 1, CpuInit = 1u << 3, CpuVintr = 1u << 4, CpuInvd = 1u << 22;
    public const uint CpuHlt = 1u << 24, CpuInvlpg = 1u << 25, CpuIo = 1u << 27, CpuMsr = 1u << 28, CpuShutdown = 1u << 31;
    public const uint CpuVmload = 1u << 2, CpuVmsave = 1u << 3, CpuClgi = 1u << 5, CpuSkinit = 1u << 6;

    /// <summary><c>Vmcb::force_ctrl0</c> (VMCB offset 0CH).</summary>
    public const uint ForceCtrl0 = CpuIntr | CpuNmi | CpuInit | CpuInvd | CpuHlt | CpuIo | CpuMsr | CpuShutdown;

    /// <summary><c>Vmcb::force_ctrl1</c> (VMCB offset 10H). VMRUN's own intercept is not forced: the VMM passes it in ctrl[1].</summary>
    public const uint ForceCtrl1 = CpuVmload | CpuVmsave | CpuClgi | CpuSkinit;

    /// <summary>V_IRQ (bit 8) and V_IGN_TPR (bit 20) of the virtual-interrupt control, NOVA's interrupt-window request.</summary>
    public const ulong VirtualIrqRequest = 1UL << 8 | 1UL << 20;

    /// <summary>V_INTR_MASKING (bit 24), set at VMCB creation.</summary>
    public const ulong VirtualInterruptMasking = 1UL << 24;

    public const ulong GuestPat = 0x0007040600070406UL;

    /// <summary>
    /// <c>svm_set_cpu_ctrl0</c>: nested paging on, CR intercepts for the masked CR0/CR4 bits (and CR3 without nested
    /// paging), INVLPG intercepted only without nested paging, NOVA's forced intercepts. Returns the clean bits it dirties.
    /// </summary>
    public static VmcbCleanBits SetCtrl0(Sim.Cpu.Memory.PhysicalMemory memory, ulong vmcb, VcpuRegisters regs, uint value)
    {
        var cr0Mask = NovaVmx.Cr0Mask(regs, 0, 0);
        var cr4Mask = NovaVmx.Cr4Mask(regs, 0, 0);
        var msk = (cr0Mask != 0 ? 1u : 0) | (regs.NestedPaging ? 0 : 1u << 3) | (cr4Mask != 0 ? 1u << 4 : 0);
        memory.Write(vmcb + VmcbLayout.NpEnable, 8, regs.NestedPaging ? 1UL : 0);
        memory.Write(vmcb + VmcbLayout.InterceptCr, 4, msk << 16 | msk);
        var cpu0 = regs.NestedPaging ? value & ~CpuInvlpg : value | CpuInvlpg;
        memory.Write(vmcb + VmcbLayout.InterceptMisc1, 4, cpu0 | ForceCtrl0);
        return VmcbCleanBits.I | VmcbCleanBits.Np;
    }

    /// <summary><c>svm_set_cpu_ctrl1</c>.</summary>
    public static VmcbCleanBits SetCtrl1(Sim.Cpu.Memory.PhysicalMemory memory, ulong vmcb, uint value)
    {
        memory.Write(vmcb + VmcbLayout.InterceptMisc2, 4, value | ForceCtrl1);
        return VmcbCleanBits.I;
    }
}
