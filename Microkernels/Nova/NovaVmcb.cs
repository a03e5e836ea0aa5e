using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Svm;

namespace Sim.Microkernels.Nova;

/// <summary>
/// A vCPU's VMCB as NOVA creates it (alex-ab/NOVA r10 src/svm.cpp <c>Vmcb::Vmcb</c> and the vCPU branch of <c>Ec::Ec</c>
/// with <c>Cpu_regs::nst_ctrl&lt;Vmcb&gt;</c>): the IOPM of the PD's port-I/O space, an MSRPM, the ASID, V_INTR_MASKING,
/// nested paging with the given nested CR3, EFER.SVME, the default PAT, NOVA's forced intercepts and #AC. The clean bits
/// are 0 (everything dirty), as in a zero-filled page.
/// </summary>
public static class NovaVmcb
{
    /// <summary>
    /// Writes the VMCB at <paramref name="vmcb"/> and the two-page MSRPM at <paramref name="msrpm"/>. The frame's RAX is
    /// the VMCB's physical address, as NOVA's <c>regs.REG(ax)</c>, for VMRUN.
    /// </summary>
    public static void Create(PhysicalMemory memory, VcpuRegisters regs, ulong vmcb, ulong iopm, ulong msrpm, ulong nestedCr3, uint asid)
    {
        memory.Zero(vmcb, PhysicalMemory.PageSize);
        memory.Write(vmcb + VmcbLayout.IopmBasePa, 8, iopm);
        memory.Write(vmcb + VmcbLayout.GuestAsid, 4, asid);
        memory.Write(vmcb + VmcbLayout.VIntr, 8, NovaSvm.VirtualInterruptMasking);
        memory.Write(vmcb + VmcbLayout.NCr3, 8, nestedCr3);
        memory.Write(vmcb + VmcbLayout.Efer, 8, 1UL << 12);
        memory.Write(vmcb + VmcbLayout.GPat, 8, NovaSvm.GuestPat);
        WriteMsrpm(memory, msrpm);
        memory.Write(vmcb + VmcbLayout.MsrpmBasePa, 8, msrpm);

        SvmStateTransfer.SetCr0(memory, vmcb, regs, SvmStateTransfer.GetCr0(memory, vmcb, regs));
        memory.Write(vmcb + VmcbLayout.Cr3, 8, regs.Cr3Shadow);
        SvmStateTransfer.SetCr4(memory, vmcb, regs, SvmStateTransfer.GetCr4(memory, vmcb, regs));
        NovaSvm.SetCtrl0(memory, vmcb, regs, 0);
        NovaSvm.SetCtrl1(memory, vmcb, 0);
        memory.Write(vmcb + VmcbLayout.InterceptExceptions, 4, NovaVmx.ExceptionBitmap(regs));
        regs.Rax = vmcb;
        regs.DstPortal = NovaExit.Startup;
    }

    /// <summary>
    /// NOVA's SVM <c>Msr_bitmap</c>: two pages of ones, then <c>disable_msr_exit</c> for FS_BASE, GS_BASE and
    /// KERNEL_GS_BASE. Its byte index is <c>2 * (r / 8) + ((r % 8) &gt; 3) ? 1 : 0</c>, which C++ parses as a conditional
    /// on the whole sum: the index is 1 for all three, so NOVA clears bits 1:0, 3:2 and 5:4 of byte 1 of the
    /// C000_0000H range (the permissions of C000_0004H–C000_0006H) and the three MSRs stay intercepted. The model does
    /// what the code does.
    /// </summary>
    private static void WriteMsrpm(PhysicalMemory memory, ulong msrpm)
    {
        for (ulong i = 0; i < 2 * PhysicalMemory.PageSize; i += 8) memory.Write(msrpm + i, 8, ulong.MaxValue);
        const ulong range1 = 2048;
        foreach (var msr in (ReadOnlySpan<uint>)[Msr.FsBase, Msr.GsBase, Msr.KernelGsBase])
        {
            var r = msr & 0x1FFFF;
            var bit = (int)(2 * (r % 4));
            var index = 2 * (r / 8) + ((r % 8) > 3 ? 1u : 0u) != 0 ? 1u : 0u;
            var mask = ~(3u << bit) & 0xFF;
            memory.Write(msrpm + range1 + index, 1, memory.Read(msrpm + range1 + index, 1) & mask);
        }
    }
}
