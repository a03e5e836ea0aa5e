using System.Buffers.Binary;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Vmx;

namespace Sim.Microkernels.Nova;

/// <summary>
/// NOVA's copy of a VMX vCPU's state into the handler EC's UTCB on a VM exit (<c>Utcb::load_vmx</c>, alex-ab/NOVA r10
/// src/utcb.cpp) and back on the reply (<c>Utcb::save_vmx</c>), over the current VMCS and the vCPU's frame. The UTCB is a
/// page of simulated memory at <c>utcb</c>, laid out as <see cref="UtcbLayout"/>. Both return the number of 8-byte UTCB
/// words they wrote or read, for the cost model. Nothing is allocated.
/// </summary>
public static class VmxStateTransfer
{
    private const ulong EferLme = 1UL << 8, EferLma = 1UL << 10;
    private const uint IntrWindowRequest = 0x1000, NmiWindowRequest = 0x2000;
    private const int VirtualApicTpr = 0x80;
    private const int MsrEntrySize = 16, MsrEntryData = 8;

    /// <summary>The MSRs of NOVA's <c>Msr_area</c> (VM-exit MSR-store/VM-entry MSR-load list), in its order.</summary>
    public static ReadOnlySpan<uint> MsrAreaIndices => [Msr.Star, Msr.Lstar, Msr.Cstar, Msr.Fmask, Msr.KernelGsBase];

    /// <summary>
    /// The part of <c>Ec::handle_vmx</c> that picks the portal of an exit NOVA forwards: the basic exit reason, with the
    /// EPT-violation qualification and guest-physical address kept in the frame. Sets <see cref="VcpuRegisters.DstPortal"/>.
    /// </summary>
    public static uint ExitPortal(VmxUnit vmx, VcpuRegisters regs)
    {
        var reason = (uint)Read(vmx, VmcsField.ExitReason) & 0xFF;
        if (reason == NovaExit.VmxEptViolation)
        {
            regs.NstError = Read(vmx, VmcsField.ExitQualification);
            regs.NstFault = Read(vmx, VmcsField.GuestPhysicalAddress);
        }
        regs.DstPortal = reason;
        return reason;
    }

    /// <summary>
    /// <c>load_vmx</c>: the state <paramref name="mtd"/> selects, then exit_value (the portal), the mtd word and the item
    /// count. CTRL is never filled on an exit. <paramref name="hostTsc"/> is what RDTSC reads in the kernel at this point.
    /// </summary>
    public static int Load(VmxUnit vmx, VcpuRegisters regs, PhysicalMemory memory, ulong utcb, Mtd mtd, ulong hostTsc)
    {
        var u = Utcb(memory, utcb);
        var words = 0;
        if ((mtd & Mtd.GprAcdb) != 0)
        {
            W64(u, UtcbLayout.Rax, regs.Rax);
            W64(u, UtcbLayout.Rcx, regs.Rcx);
            W64(u, UtcbLayout.Rdx, regs.Rdx);
            W64(u, UtcbLayout.Rbx, regs.Rbx);
            words += 4;
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            W64(u, UtcbLayout.Rbp, regs.Rbp);
            W64(u, UtcbLayout.Rsi, regs.Rsi);
            W64(u, UtcbLayout.Rdi, regs.Rdi);
            words += 3;
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            W64(u, UtcbLayout.R8, regs.R8);
            W64(u, UtcbLayout.R9, regs.R9);
            W64(u, UtcbLayout.R10, regs.R10);
            W64(u, UtcbLayout.R11, regs.R11);
            W64(u, UtcbLayout.R12, regs.R12);
            W64(u, UtcbLayout.R13, regs.R13);
            W64(u, UtcbLayout.R14, regs.R14);
            W64(u, UtcbLayout.R15, regs.R15);
            words += 8;
        }
        if ((mtd & Mtd.Rsp) != 0) { Copy(vmx, u, UtcbLayout.Rsp, VmcsField.GuestRsp); words++; }
        if ((mtd & Mtd.RipLen) != 0)
        {
            Copy(vmx, u, UtcbLayout.Rip, VmcsField.GuestRip);
            Copy(vmx, u, UtcbLayout.InstLen, VmcsField.VmExitInstructionLength);
            words += 2;
        }
        if ((mtd & Mtd.Rflags) != 0) { Copy(vmx, u, UtcbLayout.Rflags, VmcsField.GuestRflags); words++; }
        if ((mtd & Mtd.DsEs) != 0)
        {
            LoadSegment(vmx, u, UtcbLayout.Ds, 3);
            LoadSegment(vmx, u, UtcbLayout.Es, 0);
            words += 4;
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            LoadSegment(vmx, u, UtcbLayout.Fs, 4);
            LoadSegment(vmx, u, UtcbLayout.Gs, 5);
            words += 4;
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            LoadSegment(vmx, u, UtcbLayout.Cs, 1);
            LoadSegment(vmx, u, UtcbLayout.Ss, 2);
            words += 4;
        }
        if ((mtd & Mtd.Tr) != 0) { LoadSegment(vmx, u, UtcbLayout.Tr, 7); words += 2; }
        if ((mtd & Mtd.Ldtr) != 0) { LoadSegment(vmx, u, UtcbLayout.Ld, 6); words += 2; }
        if ((mtd & Mtd.Gdtr) != 0)
        {
            LoadTable(u, UtcbLayout.Gd, Read(vmx, VmcsField.GuestGdtrBase), Read(vmx, VmcsField.GuestGdtrLimit));
            words += 2;
        }
        if ((mtd & Mtd.Idtr) != 0)
        {
            LoadTable(u, UtcbLayout.Id, Read(vmx, VmcsField.GuestIdtrBase), Read(vmx, VmcsField.GuestIdtrLimit));
            words += 2;
        }
        if ((mtd & Mtd.Cr) != 0)
        {
            W64(u, UtcbLayout.Cr0, GetCr0(vmx, regs));
            W64(u, UtcbLayout.Cr2, regs.Cr2);
            W64(u, UtcbLayout.Cr3, regs.NestedPaging ? Read(vmx, VmcsField.GuestCr3) : regs.Cr3Shadow);
            W64(u, UtcbLayout.Cr4, GetCr4(vmx, regs));
            words += 4;
        }
        if ((mtd & Mtd.Dr) != 0) { Copy(vmx, u, UtcbLayout.Dr7, VmcsField.GuestDr7); words++; }
        if ((mtd & Mtd.Sysenter) != 0)
        {
            Copy(vmx, u, UtcbLayout.SysenterCs, VmcsField.GuestIa32SysenterCs);
            Copy(vmx, u, UtcbLayout.SysenterRsp, VmcsField.GuestIa32SysenterEsp);
            Copy(vmx, u, UtcbLayout.SysenterRip, VmcsField.GuestIa32SysenterEip);
            words += 3;
        }
        if ((mtd & Mtd.Qual) != 0)
        {
            if (regs.DstPortal == NovaExit.VmxEptViolation)
            {
                W64(u, UtcbLayout.Qual0, regs.NstError);
                W64(u, UtcbLayout.Qual1, regs.NstFault);
            }
            else
            {
                Copy(vmx, u, UtcbLayout.Qual0, VmcsField.ExitQualification);
                Copy(vmx, u, UtcbLayout.Qual1, VmcsField.GuestPhysicalAddress);
            }
            words += 2;
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            var pending = regs.DstPortal is NovaExit.VmxInvalidGuestState or NovaExit.Recall;
            W32(u, UtcbLayout.IntrInfo, (uint)Read(vmx, pending ? VmcsField.VmEntryInterruptionInformation : VmcsField.IdtVectoringInformation));
            W32(u, UtcbLayout.IntrError, (uint)Read(vmx, pending ? VmcsField.VmEntryExceptionErrorCode : VmcsField.IdtVectoringErrorCode));
            words++;
        }
        if ((mtd & Mtd.Sta) != 0)
        {
            W32(u, UtcbLayout.IntrState, (uint)Read(vmx, VmcsField.GuestInterruptibilityState));
            W32(u, UtcbLayout.ActvState, (uint)Read(vmx, VmcsField.GuestActivityState));
            words++;
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            W64(u, UtcbLayout.TscVal, hostTsc);
            W64(u, UtcbLayout.TscOff, regs.TscOffset);
            words += 2;
        }
        if ((mtd & Mtd.TscAux) != 0) { W64(u, UtcbLayout.TscAux, regs.TscAux); words++; }
        if ((mtd & Mtd.Xsave) != 0)
        {
            W64(u, UtcbLayout.Xcr0, regs.Xcr0);
            W64(u, UtcbLayout.Xss, regs.Xss);
            words += 2;
        }
        if ((mtd & Mtd.Efer) != 0) { Copy(vmx, u, UtcbLayout.Efer, VmcsField.GuestIa32Efer); words++; }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            var area = Read(vmx, VmcsField.VmExitMsrStoreAddress);
            for (var i = 0; i < 5; i++)
                W64(u, UtcbLayout.Star + 8 * i, memory.Read(area + (ulong)(i * MsrEntrySize + MsrEntryData), 8));
            words += 5;
        }
        if ((mtd & Mtd.Tpr) != 0)
        {
            var vapic = Read(vmx, VmcsField.VirtualApicAddress);
            W32(u, UtcbLayout.Tpr, (uint)memory.Read(vapic + VirtualApicTpr, 4));
            W32(u, UtcbLayout.TprThreshold, (uint)Read(vmx, VmcsField.TprThreshold));
            words++;
        }
        if ((mtd & Mtd.Pdpte) != 0)
        {
            Copy(vmx, u, UtcbLayout.Pdpte0, VmcsField.GuestPdpte0);
            Copy(vmx, u, UtcbLayout.Pdpte1, VmcsField.GuestPdpte1);
            Copy(vmx, u, UtcbLayout.Pdpte2, VmcsField.GuestPdpte2);
            Copy(vmx, u, UtcbLayout.Pdpte3, VmcsField.GuestPdpte3);
            words += 4;
        }
        if ((mtd & Mtd.Fpu) != 0) words += LoadFpu(regs, u);
        return words + Finish(u, regs, mtd);
    }

    /// <summary>
    /// <c>save_vmx</c>: writes back what the UTCB's mtd word selects. INJ's bits 0x1000/0x2000 turn interrupt-/NMI-window
    /// exiting on or off; TSC adds tsc_off to the vCPU's offset; CTRL goes through NOVA's forced bits; segment AR bytes
    /// are converted back to the VMCS format; CR writes keep NOVA's masks and read shadows. The host's SYSCALL MSRs are
    /// refreshed in the VM-exit MSR-load list on every reply, as NOVA does. Afterwards the frame's portal is the recall
    /// portal, so that an exit that does not set one is reported as a recall.
    /// </summary>
    public static int Save(VmxUnit vmx, VcpuRegisters regs, PhysicalMemory memory, ulong utcb)
    {
        ReadOnlySpan<byte> u = memory.RamBytes(utcb, UtcbLayout.Size);
        var mtd = (Mtd)(uint)R64(u, UtcbLayout.Mtd);
        var words = 1;
        if ((mtd & Mtd.GprAcdb) != 0)
        {
            regs.Rax = R64(u, UtcbLayout.Rax);
            regs.Rcx = R64(u, UtcbLayout.Rcx);
            regs.Rdx = R64(u, UtcbLayout.Rdx);
            regs.Rbx = R64(u, UtcbLayout.Rbx);
            words += 4;
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            regs.Rbp = R64(u, UtcbLayout.Rbp);
            regs.Rsi = R64(u, UtcbLayout.Rsi);
            regs.Rdi = R64(u, UtcbLayout.Rdi);
            words += 3;
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            regs.R8 = R64(u, UtcbLayout.R8);
            regs.R9 = R64(u, UtcbLayout.R9);
            regs.R10 = R64(u, UtcbLayout.R10);
            regs.R11 = R64(u, UtcbLayout.R11);
            regs.R12 = R64(u, UtcbLayout.R12);
            regs.R13 = R64(u, UtcbLayout.R13);
            regs.R14 = R64(u, UtcbLayout.R14);
            regs.R15 = R64(u, UtcbLayout.R15);
            words += 8;
        }
        if ((mtd & Mtd.Rsp) != 0) { Write(vmx, VmcsField.GuestRsp, R64(u, UtcbLayout.Rsp)); words++; }
        if ((mtd & Mtd.RipLen) != 0)
        {
            Write(vmx, VmcsField.GuestRip, R64(u, UtcbLayout.Rip));
            Write(vmx, VmcsField.VmEntryInstructionLength, R64(u, UtcbLayout.InstLen));
            words += 2;
        }
        if ((mtd & Mtd.Rflags) != 0) { Write(vmx, VmcsField.GuestRflags, R64(u, UtcbLayout.Rflags)); words++; }
        if ((mtd & Mtd.DsEs) != 0)
        {
            SaveSegment(vmx, u, UtcbLayout.Ds, 3);
            SaveSegment(vmx, u, UtcbLayout.Es, 0);
            words += 4;
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            SaveSegment(vmx, u, UtcbLayout.Fs, 4);
            SaveSegment(vmx, u, UtcbLayout.Gs, 5);
            words += 4;
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            SaveSegment(vmx, u, UtcbLayout.Cs, 1);
            SaveSegment(vmx, u, UtcbLayout.Ss, 2);
            words += 4;
        }
        if ((mtd & Mtd.Tr) != 0) { SaveSegment(vmx, u, UtcbLayout.Tr, 7); words += 2; }
        if ((mtd & Mtd.Ldtr) != 0) { SaveSegment(vmx, u, UtcbLayout.Ld, 6); words += 2; }
        if ((mtd & Mtd.Gdtr) != 0)
        {
            Write(vmx, VmcsField.GuestGdtrBase, R64(u, UtcbLayout.Gd + UtcbLayout.SegmentBase));
            Write(vmx, VmcsField.GuestGdtrLimit, R32(u, UtcbLayout.Gd + UtcbLayout.SegmentLimit));
            words += 2;
        }
        if ((mtd & Mtd.Idtr) != 0)
        {
            Write(vmx, VmcsField.GuestIdtrBase, R64(u, UtcbLayout.Id + UtcbLayout.SegmentBase));
            Write(vmx, VmcsField.GuestIdtrLimit, R32(u, UtcbLayout.Id + UtcbLayout.SegmentLimit));
            words += 2;
        }
        if ((mtd & Mtd.Cr) != 0)
        {
            WriteCr0(vmx, regs, R64(u, UtcbLayout.Cr0));
            regs.Cr2 = R64(u, UtcbLayout.Cr2);
            var cr3 = R64(u, UtcbLayout.Cr3);
            if (regs.NestedPaging) Write(vmx, VmcsField.GuestCr3, cr3);
            else regs.Cr3Shadow = cr3;
            SetCr4(vmx, regs, R64(u, UtcbLayout.Cr4));
            words += 4;
        }
        if ((mtd & Mtd.Dr) != 0) { Write(vmx, VmcsField.GuestDr7, R64(u, UtcbLayout.Dr7)); words++; }
        if ((mtd & Mtd.Sysenter) != 0)
        {
            Write(vmx, VmcsField.GuestIa32SysenterCs, R64(u, UtcbLayout.SysenterCs));
            Write(vmx, VmcsField.GuestIa32SysenterEsp, R64(u, UtcbLayout.SysenterRsp));
            Write(vmx, VmcsField.GuestIa32SysenterEip, R64(u, UtcbLayout.SysenterRip));
            words += 3;
        }
        if ((mtd & Mtd.Ctrl) != 0)
        {
            Write(vmx, VmcsField.PrimaryProcessorBasedVmExecutionControls, NovaVmx.PrimaryControls(regs, (uint)R32(u, UtcbLayout.Ctrl0)));
            Write(vmx, VmcsField.SecondaryProcessorBasedVmExecutionControls, NovaVmx.SecondaryControls(regs, (uint)R32(u, UtcbLayout.Ctrl1)));
            words++;
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            var info = (uint)R32(u, UtcbLayout.IntrInfo);
            var ctrl = (uint)Read(vmx, VmcsField.PrimaryProcessorBasedVmExecutionControls);
            ctrl = (info & IntrWindowRequest) != 0 ? ctrl | ProcessorBasedControls.InterruptWindowExiting : ctrl & ~ProcessorBasedControls.InterruptWindowExiting;
            ctrl = (info & NmiWindowRequest) != 0 ? ctrl | ProcessorBasedControls.NmiWindowExiting : ctrl & ~ProcessorBasedControls.NmiWindowExiting;
            Write(vmx, VmcsField.PrimaryProcessorBasedVmExecutionControls, NovaVmx.PrimaryControls(regs, ctrl));
            Write(vmx, VmcsField.VmEntryInterruptionInformation, info & ~(IntrWindowRequest | NmiWindowRequest));
            Write(vmx, VmcsField.VmEntryExceptionErrorCode, R32(u, UtcbLayout.IntrError));
            words++;
        }
        if ((mtd & Mtd.Sta) != 0)
        {
            Write(vmx, VmcsField.GuestInterruptibilityState, R32(u, UtcbLayout.IntrState));
            Write(vmx, VmcsField.GuestActivityState, R32(u, UtcbLayout.ActvState));
            words++;
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            // add_tsc_offset sets HZD_TSC, which writes the offset into the VMCS before the next VM entry.
            regs.TscOffset += R64(u, UtcbLayout.TscOff);
            Write(vmx, VmcsField.TscOffset, regs.TscOffset);
            words++;
        }
        if ((mtd & Mtd.Xsave) != 0)
        {
            regs.Xcr0 = ConstrainXcr0(R64(u, UtcbLayout.Xcr0));
            regs.Xss = R64(u, UtcbLayout.Xss) & Processor.SupportedXss;
            words += 2;
        }
        if ((mtd & Mtd.Efer) != 0) { WriteEfer(vmx, R64(u, UtcbLayout.Efer)); words++; }
        var hostArea = Read(vmx, VmcsField.VmExitMsrLoadAddress);
        if (hostArea != 0)
        {
            var cpu = vmx.Processor;
            memory.Write(hostArea + 0 * MsrEntrySize + MsrEntryData, 8, cpu.Star);
            memory.Write(hostArea + 1 * MsrEntrySize + MsrEntryData, 8, cpu.Lstar);
            memory.Write(hostArea + 2 * MsrEntrySize + MsrEntryData, 8, cpu.Cstar);
            memory.Write(hostArea + 3 * MsrEntrySize + MsrEntryData, 8, cpu.Fmask);
            memory.Write(hostArea + 4 * MsrEntrySize + MsrEntryData, 8, cpu.KernelGsBase);
        }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            var area = Read(vmx, VmcsField.VmExitMsrStoreAddress);
            for (var i = 0; i < 5; i++)
                memory.Write(area + (ulong)(i * MsrEntrySize + MsrEntryData), 8, R64(u, UtcbLayout.Star + 8 * i));
            words += 5;
        }
        if ((mtd & Mtd.Tpr) != 0)
        {
            var vapic = Read(vmx, VmcsField.VirtualApicAddress);
            memory.Write(vapic + VirtualApicTpr, 4, R32(u, UtcbLayout.Tpr));
            Write(vmx, VmcsField.TprThreshold, R32(u, UtcbLayout.TprThreshold));
            words++;
        }
        if ((mtd & Mtd.Pdpte) != 0)
        {
            Write(vmx, VmcsField.GuestPdpte0, R64(u, UtcbLayout.Pdpte0));
            Write(vmx, VmcsField.GuestPdpte1, R64(u, UtcbLayout.Pdpte1));
            Write(vmx, VmcsField.GuestPdpte2, R64(u, UtcbLayout.Pdpte2));
            Write(vmx, VmcsField.GuestPdpte3, R64(u, UtcbLayout.Pdpte3));
            words += 4;
        }
        if ((mtd & Mtd.TscAux) != 0) { regs.TscAux = R64(u, UtcbLayout.TscAux); words++; }
        if ((mtd & Mtd.Fpu) != 0) words += SaveFpu(regs, u);
        regs.DstPortal = NovaExit.Recall;
        return words;
    }

    /// <summary>Intel 32-bit access rights to NOVA's compact 16-bit form (<c>Utcb_segment::set_vmx</c>): bits 16:12 to 12:8, 7:0 kept.</summary>
    public static ushort CompactAr(ulong ar) => (ushort)(((ar >> 4) & 0x1F00) | (ar & 0xFF));

    /// <summary>The compact form back to the VMCS's (save_vmx): bits 12:8 to 16:12.</summary>
    public static uint IntelAr(ushort ar) => (uint)(((ar << 4) & 0x1F000) | (ar & 0xFF));

    /// <summary>
    /// <c>Fpu::State_xsv::constrain_xcr</c> as the model has it: the components the processor supports, x87 always on and
    /// AVX only with SSE, so that the value is one XSETBV would accept.
    /// </summary>
    public static ulong ConstrainXcr0(ulong value)
    {
        value = (value & Processor.SupportedXcr0) | Processor.X87StateComponent;
        return (value & Processor.SseStateComponent) == 0 ? value & ~Processor.AvxStateComponent : value;
    }

    /// <summary>CR0 as NOVA reports it: the guest's bits outside the guest/host mask, the read shadow's inside.</summary>
    public static ulong GetCr0(VmxUnit vmx, VcpuRegisters regs)
    {
        var mask = NovaVmx.Cr0Mask(regs, NovaVmx.FixCr0Set, NovaVmx.FixCr0Clr);
        return (Read(vmx, VmcsField.GuestCr0) & ~mask) | (regs.Cr0Shadow & mask);
    }

    public static ulong GetCr4(VmxUnit vmx, VcpuRegisters regs)
    {
        var mask = NovaVmx.Cr4Mask(regs, NovaVmx.FixCr4Set, NovaVmx.FixCr4Clr);
        return (Read(vmx, VmcsField.GuestCr4) & ~mask) | (regs.Cr4Shadow & mask);
    }

    /// <summary><c>set_cr0</c>: the guest CR0 keeps the bits NOVA forces, PE follows the value; the shadow is the value.</summary>
    public static void SetCr0(VmxUnit vmx, VcpuRegisters regs, ulong value)
    {
        var set = NovaVmx.Cr0Set(regs, NovaVmx.FixCr0Set);
        var mask = NovaVmx.FixCr0Clr | set;
        Write(vmx, VmcsField.GuestCr0, (value & (~mask | Cr0.PE)) | (set & ~Cr0.PE));
        regs.Cr0Shadow = value;
        Write(vmx, VmcsField.Cr0ReadShadow, value);
    }

    public static void SetCr4(VmxUnit vmx, VcpuRegisters regs, ulong value)
    {
        var set = NovaVmx.Cr4Set(regs, NovaVmx.FixCr4Set);
        var mask = NovaVmx.Cr4Mask(regs, NovaVmx.FixCr4Set, NovaVmx.FixCr4Clr);
        Write(vmx, VmcsField.GuestCr4, (value & ~mask) | set);
        regs.Cr4Shadow = value;
        Write(vmx, VmcsField.Cr4ReadShadow, value);
    }

    /// <summary><c>write_cr(0)</c>: a change of PG recomputes EFER.LMA from EFER.LME (and the IA-32e-mode entry control).</summary>
    internal static void WriteCr0(VmxUnit vmx, VcpuRegisters regs, ulong value)
    {
        var toggled = GetCr0(vmx, regs) ^ value;
        SetCr0(vmx, regs, value);
        if ((toggled & Cr0.PG) == 0) return;
        var efer = Read(vmx, VmcsField.GuestIa32Efer);
        WriteEfer(vmx, (value & Cr0.PG) != 0 && (efer & EferLme) != 0 ? efer | EferLma : efer & ~EferLma);
    }

    /// <summary><c>write_efer&lt;Vmcs&gt;</c>: the guest EFER, and the IA-32e-mode-guest entry control following LMA.</summary>
    private static void WriteEfer(VmxUnit vmx, ulong efer)
    {
        Write(vmx, VmcsField.GuestIa32Efer, efer);
        var entry = Read(vmx, VmcsField.VmEntryControls);
        Write(vmx, VmcsField.VmEntryControls, (efer & EferLma) != 0 ? entry | VmEntryControls.Ia32eModeGuest : entry & ~(ulong)VmEntryControls.Ia32eModeGuest);
    }

    private static void LoadSegment(VmxUnit vmx, Span<byte> u, int at, int index)
    {
        var i = (ulong)(2 * index);
        W16(u, at + UtcbLayout.SegmentSel, (ushort)Read(vmx, (ulong)VmcsField.GuestEsSelector + i));
        W16(u, at + UtcbLayout.SegmentAr, CompactAr(Read(vmx, (ulong)VmcsField.GuestEsAccessRights + i)));
        W32(u, at + UtcbLayout.SegmentLimit, (uint)Read(vmx, (ulong)VmcsField.GuestEsLimit + i));
        W64(u, at + UtcbLayout.SegmentBase, Read(vmx, (ulong)VmcsField.GuestEsBase + i));
    }

    private static void SaveSegment(VmxUnit vmx, ReadOnlySpan<byte> u, int at, int index)
    {
        var i = (ulong)(2 * index);
        Write(vmx, (ulong)VmcsField.GuestEsSelector + i, R16(u, at + UtcbLayout.SegmentSel));
        Write(vmx, (ulong)VmcsField.GuestEsBase + i, R64(u, at + UtcbLayout.SegmentBase));
        Write(vmx, (ulong)VmcsField.GuestEsLimit + i, R32(u, at + UtcbLayout.SegmentLimit));
        Write(vmx, (ulong)VmcsField.GuestEsAccessRights + i, IntelAr(R16(u, at + UtcbLayout.SegmentAr)));
    }

    /// <summary>GDTR/IDTR go through <c>set_vmx (0, base, limit, 0)</c>: selector and AR are written as 0.</summary>
    private static void LoadTable(Span<byte> u, int at, ulong tableBase, ulong limit)
    {
        W32(u, at + UtcbLayout.SegmentSel, 0);
        W32(u, at + UtcbLayout.SegmentLimit, (uint)limit);
        W64(u, at + UtcbLayout.SegmentBase, tableBase);
    }

    /// <summary>
    /// Mtd.FPU: the vCPU's FPU image into the UTCB's fpu area. The stored NOVA revisions hand the FPU itself to the handler
    /// EC instead (<c>transfer_fpu</c>); Genode's NH UTCB carries it in the page, which is what a C# host can express.
    /// </summary>
    internal static int LoadFpu(VcpuRegisters regs, Span<byte> u)
    {
        var image = regs.FpuImageToRead;
        image.CopyTo(u[UtcbLayout.Fpu..]);
        return image.Length / 8;
    }

    internal static int SaveFpu(VcpuRegisters regs, ReadOnlySpan<byte> u)
    {
        var image = regs.FpuImage;
        u.Slice(UtcbLayout.Fpu, image.Length).CopyTo(image);
        return image.Length / 8;
    }

    /// <summary>exit_value, the mtd word and <c>items = sizeof (Utcb_data) / sizeof (mword)</c>, written last as NOVA does.</summary>
    internal static int Finish(Span<byte> u, VcpuRegisters regs, Mtd mtd)
    {
        W64(u, UtcbLayout.ExitValue, regs.DstPortal);
        W64(u, UtcbLayout.Mtd, (uint)mtd);
        W64(u, UtcbLayout.Items, UtcbLayout.DataWords);
        return 3;
    }

    private static ulong Read(VmxUnit vmx, VmcsField field) => vmx.ReadCurrent(field);

    private static ulong Read(VmxUnit vmx, ulong field) => vmx.ReadCurrent((VmcsField)field);

    private static void Write(VmxUnit vmx, VmcsField field, ulong value) => vmx.Vmwrite((ulong)field, value);

    private static void Write(VmxUnit vmx, ulong field, ulong value) => vmx.Vmwrite(field, value);

    private static void Copy(VmxUnit vmx, Span<byte> u, int offset, VmcsField field) => W64(u, offset, Read(vmx, field));

    /// <summary>The UTCB page as a host span: the transfer is host software's word-by-word access to its own structure.</summary>
    internal static Span<byte> Utcb(PhysicalMemory memory, ulong utcb) => memory.RamSpan(utcb, UtcbLayout.Size);

    internal static void W64(Span<byte> u, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(u[offset..], value);

    internal static void W32(Span<byte> u, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(u[offset..], value);

    internal static void W16(Span<byte> u, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(u[offset..], value);

    internal static ulong R64(ReadOnlySpan<byte> u, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(u[offset..]);

    internal static uint R32(ReadOnlySpan<byte> u, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(u[offset..]);

    internal static ushort R16(ReadOnlySpan<byte> u, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(u[offset..]);
}
