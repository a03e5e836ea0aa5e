using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Microkernels.Kernel;
using Sim.Vmx;

namespace Sim.Microkernels.Nova;

/// <summary>The physical pages a NOVA VMCS uses besides itself: what the kernel allocates with it (src/vmx.cpp <c>Vmcs::Vmcs</c>).</summary>
/// <param name="Vmcs">The VMCS region.</param>
/// <param name="IoBitmap">Two pages: I/O bitmaps A and B (the PD's port-I/O space).</param>
/// <param name="MsrBitmap">One page, every MSR intercepted but FS_BASE, GS_BASE and KERNEL_GS_BASE.</param>
/// <param name="GuestMsrArea">The guest's <c>Msr_area</c>: VM-exit MSR-store and VM-entry MSR-load list.</param>
/// <param name="HostMsrArea">The host's <c>Msr_area</c>: VM-exit MSR-load list.</param>
/// <param name="VirtualApic">The virtual-APIC page (TPR at 80H).</param>
public readonly record struct NovaVmcsPages(ulong Vmcs, ulong IoBitmap, ulong MsrBitmap, ulong GuestMsrArea, ulong HostMsrArea, ulong VirtualApic);

/// <summary>
/// A vCPU's VMCS as NOVA creates it (alex-ab/NOVA r10 src/vmx.cpp <c>Vmcs::Vmcs</c> and the vCPU branch of <c>Ec::Ec</c>
/// with <c>Cpu_regs::nst_ctrl&lt;Vmcs&gt;</c>), through the VMX unit's instructions: pin-based external-interrupt and NMI
/// exiting with virtual NMIs; HLT, I/O-bitmap, MSR-bitmap and secondary controls; EPT, VPID and unrestricted guest;
/// exits to a 64-bit host that acknowledge the interrupt and save/load EFER; entries that load EFER; the host-state area
/// from <see cref="HostState"/>; the MSR lists NOVA keeps STAR, LSTAR, CSTAR, SFMASK and KERNEL_GS_BASE in.
/// </summary>
public static class NovaVmcs
{
    /// <summary>The EPT pointer NOVA writes: write-back, 4-level walk (<c>(Ept::max() - 1) &lt;&lt; 3 | 6</c>).</summary>
    public static ulong EptPointer(ulong pml4) => (pml4 & ~0xFFFUL) | 3 << 3 | 6;

    /// <summary>VMXON on <paramref name="vmx"/>'s processor with a 4-KiB region at <paramref name="region"/> (revision identifier written first).</summary>
    public static VmxResult Vmxon(VmxUnit vmx, PhysicalMemory memory, ulong region)
    {
        memory.Zero(region, PhysicalMemory.PageSize);
        memory.Write(region, 4, VmxCapability.VmcsRevisionId);
        return vmx.Vmxon(region);
    }

    /// <summary>
    /// Creates and initialises the VMCS and leaves it clear and not current, as NOVA's EC constructor does: the exit path
    /// makes it current with VMPTRLD and enters with VMRESUME, falling back to VMLAUNCH. The guest state is what
    /// <c>nst_ctrl</c> leaves (CR0 with NE, CR4 with VMXE, shadows 0); the VMM loads the rest at the startup exit.
    /// </summary>
    public static VmxResult Create(VmxUnit vmx, PhysicalMemory memory, VcpuRegisters regs, in NovaVmcsPages pages, HostState host, ulong eptPml4, ushort vpid)
    {
        memory.Zero(pages.Vmcs, PhysicalMemory.PageSize);
        memory.Write(pages.Vmcs, 4, VmxCapability.VmcsRevisionId);
        var r = vmx.Vmclear(pages.Vmcs);
        if (r != VmxResult.Succeed) return r;
        r = vmx.Vmptrld(pages.Vmcs);
        if (r != VmxResult.Succeed) return r;

        var status = VmxResult.Succeed;
        void W(VmcsField field, ulong value)
        {
            var w = vmx.Vmwrite(field, value);
            if (w != VmxResult.Succeed && status == VmxResult.Succeed) status = w;
        }

        W(VmcsField.PageFaultErrorCodeMask, 0);
        W(VmcsField.PageFaultErrorCodeMatch, 0);
        W(VmcsField.Cr3TargetCount, 0);
        W(VmcsField.VmcsLinkPointer, ulong.MaxValue);
        W(VmcsField.VirtualProcessorIdentifier, vpid);
        W(VmcsField.EptPointer, EptPointer(eptPml4));
        W(VmcsField.IoBitmapA, pages.IoBitmap);
        W(VmcsField.IoBitmapB, pages.IoBitmap + PhysicalMemory.PageSize);

        W(VmcsField.HostCsSelector, host.CodeSelector);
        W(VmcsField.HostSsSelector, host.DataSelector);
        W(VmcsField.HostDsSelector, host.DataSelector);
        W(VmcsField.HostEsSelector, host.DataSelector);
        W(VmcsField.HostTrSelector, host.TssSelector);
        W(VmcsField.HostIa32Efer, host.Efer);

        W(VmcsField.PinBasedVmExecutionControls, (NovaVmx.PinControls | PinBasedControls.Default1) & PinBasedControls.Allowed1);
        W(VmcsField.VmExitControls, (NovaVmx.ExitControls | VmExitControls.TrueDefault1) & VmExitControls.Allowed1);
        W(VmcsField.VmEntryControls, (NovaVmx.EntryControls | VmEntryControls.TrueDefault1) & VmEntryControls.Allowed1);

        W(VmcsField.HostCr3, host.Cr3);
        W(VmcsField.HostCr0, host.Cr0 | Sim.Cpu.Registers.Cr0.TS);
        W(VmcsField.HostCr4, host.Cr4);
        W(VmcsField.HostTrBase, host.TssBase);
        W(VmcsField.HostGdtrBase, host.GdtBase);
        W(VmcsField.HostIdtrBase, host.IdtBase);
        // NOVA points SYSENTER at its own entry; the model's host has none, so only CS and the TSS's RSP0 are meaningful.
        W(VmcsField.HostIa32SysenterCs, host.CodeSelector);
        W(VmcsField.HostIa32SysenterEsp, host.TssBase + 4);
        W(VmcsField.HostIa32SysenterEip, 0);
        W(VmcsField.HostRsp, host.Rsp);
        W(VmcsField.HostRip, host.Rip);

        var cpu = vmx.Processor;
        WriteMsrArea(memory, pages.HostMsrArea, cpu.Star, cpu.Lstar, cpu.Cstar, cpu.Fmask, cpu.KernelGsBase);
        W(VmcsField.VmExitMsrLoadAddress, pages.HostMsrArea);
        W(VmcsField.VmExitMsrLoadCount, 5);
        WriteMsrArea(memory, pages.GuestMsrArea, 0, 0, 0, 0, 0);
        W(VmcsField.VmEntryMsrLoadAddress, pages.GuestMsrArea);
        W(VmcsField.VmEntryMsrLoadCount, 5);
        W(VmcsField.VmExitMsrStoreAddress, pages.GuestMsrArea);
        W(VmcsField.VmExitMsrStoreCount, 5);

        memory.Zero(pages.VirtualApic, PhysicalMemory.PageSize);
        W(VmcsField.VirtualApicAddress, pages.VirtualApic);

        WriteMsrBitmap(memory, pages.MsrBitmap);
        W(VmcsField.MsrBitmap, pages.MsrBitmap);

        // nst_ctrl<Vmcs>: CR0/CR3/CR4 through NOVA's masks, the controls with the bits NOVA forces, #AC intercepted.
        VmxStateTransfer.SetCr0(vmx, regs, VmxStateTransfer.GetCr0(vmx, regs));
        W(VmcsField.GuestCr3, regs.Cr3Shadow);
        VmxStateTransfer.SetCr4(vmx, regs, VmxStateTransfer.GetCr4(vmx, regs));
        W(VmcsField.PrimaryProcessorBasedVmExecutionControls, NovaVmx.PrimaryControls(regs, 0));
        W(VmcsField.SecondaryProcessorBasedVmExecutionControls, NovaVmx.SecondaryControls(regs, 0));
        W(VmcsField.ExceptionBitmap, NovaVmx.ExceptionBitmap(regs));
        W(VmcsField.Cr0GuestHostMask, NovaVmx.Cr0Mask(regs, NovaVmx.FixCr0Set, NovaVmx.FixCr0Clr));
        W(VmcsField.Cr4GuestHostMask, NovaVmx.Cr4Mask(regs, NovaVmx.FixCr4Set, NovaVmx.FixCr4Clr));
        regs.DstPortal = NovaExit.Startup;

        r = vmx.Vmclear(pages.Vmcs);
        return status != VmxResult.Succeed ? status : r;
    }

    private static void WriteMsrArea(PhysicalMemory memory, ulong area, ulong star, ulong lstar, ulong cstar, ulong fmask, ulong kernelGsBase)
    {
        memory.Zero(area, PhysicalMemory.PageSize);
        var indices = VmxStateTransfer.MsrAreaIndices;
        Span<ulong> values = [star, lstar, cstar, fmask, kernelGsBase];
        for (var i = 0; i < 5; i++)
        {
            memory.Write(area + (ulong)(16 * i), 4, indices[i]);
            memory.Write(area + (ulong)(16 * i + 8), 8, values[i]);
        }
    }

    /// <summary>NOVA's <c>Msr_bitmap</c>: all ones, read and write exits off for FS_BASE, GS_BASE and KERNEL_GS_BASE (the C000xxxx halves at 400H and C00H).</summary>
    private static void WriteMsrBitmap(PhysicalMemory memory, ulong bitmap)
    {
        for (ulong i = 0; i < PhysicalMemory.PageSize; i += 8) memory.Write(bitmap + i, 8, ulong.MaxValue);
        foreach (var msr in (ReadOnlySpan<uint>)[Msr.FsBase, Msr.GsBase, Msr.KernelGsBase])
        {
            var index = (msr & 0x1FFF) / 8;
            var mask = ~(1u << (int)(msr % 8)) & 0xFF;
            memory.Write(bitmap + 1024 + index, 1, memory.Read(bitmap + 1024 + index, 1) & mask);
            memory.Write(bitmap + 3072 + index, 1, memory.Read(bitmap + 3072 + index, 1) & mask);
        }
    }
}
