using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Svm;

namespace Sim.Microkernels.Nova;

/// <summary>
/// NOVA's copy of an SVM vCPU's state into the handler EC's UTCB on a VM exit (<c>Utcb::load_svm</c>, alex-ab/NOVA r10
/// src/utcb.cpp) and back on the reply (<c>Utcb::save_svm</c>), over the VMCB in simulated memory and the vCPU's frame.
/// The VMCB's segment format is the UTCB's, so segments are copied as they are. SVM has no instruction length (inst_len
/// is left alone), no PDPTE or TPR transfer and no NMI-window request. Save clears the VMCB clean bits of every group it
/// changes (APM vol. 2, 15.15.3); NOVA itself never sets clean bits. Both return the 8-byte UTCB words they moved.
/// </summary>
public static class SvmStateTransfer
{
    private const ulong EferLme = 1UL << 8, EferLma = 1UL << 10;
    private const uint IntrWindowRequest = 0x1000, NmiWindowRequest = 0x2000;

    /// <summary>
    /// The portal of an SVM exit (<c>Ec::handle_svm</c>): −1 (invalid guest state) to 0xfd, a nested page fault (400H)
    /// to 0xfc with EXITINFO1/2 kept as nested error and fault, any other exit code as it is.
    /// </summary>
    public static uint ExitPortal(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs)
    {
        var code = memory.Read(vmcb + VmcbLayout.ExitCode, 8);
        uint portal;
        if (code == ulong.MaxValue) portal = NovaExit.InvalidState;
        else if (code == (ulong)SvmExitCode.Npf)
        {
            regs.NstError = memory.Read(vmcb + VmcbLayout.ExitInfo1, 8);
            regs.NstFault = memory.Read(vmcb + VmcbLayout.ExitInfo2, 8);
            portal = NovaExit.Npt;
        }
        else portal = (uint)code;
        regs.DstPortal = portal;
        return portal;
    }

    /// <summary><c>load_svm</c>: the state <paramref name="mtd"/> selects, then exit_value, the mtd word and the item count.</summary>
    public static int Load(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs, ulong utcb, Mtd mtd, ulong hostTsc)
    {
        var u = VmxStateTransfer.Utcb(memory, utcb);
        ReadOnlySpan<byte> v = memory.RamBytes(vmcb, VmcbLayout.Size);
        var words = 0;
        if ((mtd & Mtd.GprAcdb) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.Rax, VmxStateTransfer.R64(v, VmcbLayout.Rax));
            VmxStateTransfer.W64(u, UtcbLayout.Rcx, regs.Rcx);
            VmxStateTransfer.W64(u, UtcbLayout.Rdx, regs.Rdx);
            VmxStateTransfer.W64(u, UtcbLayout.Rbx, regs.Rbx);
            words += 4;
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.Rbp, regs.Rbp);
            VmxStateTransfer.W64(u, UtcbLayout.Rsi, regs.Rsi);
            VmxStateTransfer.W64(u, UtcbLayout.Rdi, regs.Rdi);
            words += 3;
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.R8, regs.R8);
            VmxStateTransfer.W64(u, UtcbLayout.R9, regs.R9);
            VmxStateTransfer.W64(u, UtcbLayout.R10, regs.R10);
            VmxStateTransfer.W64(u, UtcbLayout.R11, regs.R11);
            VmxStateTransfer.W64(u, UtcbLayout.R12, regs.R12);
            VmxStateTransfer.W64(u, UtcbLayout.R13, regs.R13);
            VmxStateTransfer.W64(u, UtcbLayout.R14, regs.R14);
            VmxStateTransfer.W64(u, UtcbLayout.R15, regs.R15);
            words += 8;
        }
        if ((mtd & Mtd.Rsp) != 0) { VmxStateTransfer.W64(u, UtcbLayout.Rsp, VmxStateTransfer.R64(v, VmcbLayout.Rsp)); words++; }
        if ((mtd & Mtd.RipLen) != 0) { VmxStateTransfer.W64(u, UtcbLayout.Rip, VmxStateTransfer.R64(v, VmcbLayout.Rip)); words++; }
        if ((mtd & Mtd.Rflags) != 0) { VmxStateTransfer.W64(u, UtcbLayout.Rflags, VmxStateTransfer.R64(v, VmcbLayout.Rflags)); words++; }
        if ((mtd & Mtd.DsEs) != 0)
        {
            v.Slice(VmcbLayout.Ds, 16).CopyTo(u[UtcbLayout.Ds..]);
            v.Slice(VmcbLayout.Es, 16).CopyTo(u[UtcbLayout.Es..]);
            words += 4;
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            v.Slice(VmcbLayout.Fs, 16).CopyTo(u[UtcbLayout.Fs..]);
            v.Slice(VmcbLayout.Gs, 16).CopyTo(u[UtcbLayout.Gs..]);
            words += 4;
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            v.Slice(VmcbLayout.Cs, 16).CopyTo(u[UtcbLayout.Cs..]);
            v.Slice(VmcbLayout.Ss, 16).CopyTo(u[UtcbLayout.Ss..]);
            words += 4;
        }
        if ((mtd & Mtd.Tr) != 0) { v.Slice(VmcbLayout.Tr, 16).CopyTo(u[UtcbLayout.Tr..]); words += 2; }
        if ((mtd & Mtd.Ldtr) != 0) { v.Slice(VmcbLayout.Ldtr, 16).CopyTo(u[UtcbLayout.Ld..]); words += 2; }
        if ((mtd & Mtd.Gdtr) != 0) { v.Slice(VmcbLayout.Gdtr, 16).CopyTo(u[UtcbLayout.Gd..]); words += 2; }
        if ((mtd & Mtd.Idtr) != 0) { v.Slice(VmcbLayout.Idtr, 16).CopyTo(u[UtcbLayout.Id..]); words += 2; }
        if ((mtd & Mtd.Cr) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.Cr0, GetCr0(memory, vmcb, regs));
            VmxStateTransfer.W64(u, UtcbLayout.Cr2, VmxStateTransfer.R64(v, VmcbLayout.Cr2));
            VmxStateTransfer.W64(u, UtcbLayout.Cr3, regs.NestedPaging ? VmxStateTransfer.R64(v, VmcbLayout.Cr3) : regs.Cr3Shadow);
            VmxStateTransfer.W64(u, UtcbLayout.Cr4, GetCr4(memory, vmcb, regs));
            words += 4;
        }
        if ((mtd & Mtd.Dr) != 0) { VmxStateTransfer.W64(u, UtcbLayout.Dr7, VmxStateTransfer.R64(v, VmcbLayout.Dr7)); words++; }
        if ((mtd & Mtd.Sysenter) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.SysenterCs, VmxStateTransfer.R64(v, VmcbLayout.SysenterCs));
            VmxStateTransfer.W64(u, UtcbLayout.SysenterRsp, VmxStateTransfer.R64(v, VmcbLayout.SysenterEsp));
            VmxStateTransfer.W64(u, UtcbLayout.SysenterRip, VmxStateTransfer.R64(v, VmcbLayout.SysenterEip));
            words += 3;
        }
        if ((mtd & Mtd.Qual) != 0)
        {
            if (regs.DstPortal == NovaExit.Npt)
            {
                VmxStateTransfer.W64(u, UtcbLayout.Qual0, regs.NstError);
                VmxStateTransfer.W64(u, UtcbLayout.Qual1, regs.NstFault);
            }
            else
            {
                VmxStateTransfer.W64(u, UtcbLayout.Qual0, VmxStateTransfer.R64(v, VmcbLayout.ExitInfo1));
                VmxStateTransfer.W64(u, UtcbLayout.Qual1, VmxStateTransfer.R64(v, VmcbLayout.ExitInfo2));
            }
            words += 2;
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            var pending = regs.DstPortal is NovaExit.InvalidState or NovaExit.Recall;
            VmxStateTransfer.W64(u, UtcbLayout.Inj, VmxStateTransfer.R64(v, pending ? VmcbLayout.EventInj : VmcbLayout.ExitIntInfo));
            words++;
        }
        if ((mtd & Mtd.Sta) != 0)
        {
            VmxStateTransfer.W32(u, UtcbLayout.IntrState, VmxStateTransfer.R32(v, VmcbLayout.InterruptShadow));
            VmxStateTransfer.W32(u, UtcbLayout.ActvState, 0);
            words++;
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.TscVal, hostTsc);
            VmxStateTransfer.W64(u, UtcbLayout.TscOff, regs.TscOffset);
            words += 2;
        }
        if ((mtd & Mtd.TscAux) != 0) { VmxStateTransfer.W64(u, UtcbLayout.TscAux, regs.TscAux); words++; }
        if ((mtd & Mtd.Xsave) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.Xcr0, regs.Xcr0);
            VmxStateTransfer.W64(u, UtcbLayout.Xss, regs.Xss);
            words += 2;
        }
        if ((mtd & Mtd.Efer) != 0) { VmxStateTransfer.W64(u, UtcbLayout.Efer, VmxStateTransfer.R64(v, VmcbLayout.Efer)); words++; }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            VmxStateTransfer.W64(u, UtcbLayout.Star, VmxStateTransfer.R64(v, VmcbLayout.Star));
            VmxStateTransfer.W64(u, UtcbLayout.Lstar, VmxStateTransfer.R64(v, VmcbLayout.Lstar));
            VmxStateTransfer.W64(u, UtcbLayout.Cstar, VmxStateTransfer.R64(v, VmcbLayout.Cstar));
            VmxStateTransfer.W64(u, UtcbLayout.Fmask, VmxStateTransfer.R64(v, VmcbLayout.Sfmask));
            VmxStateTransfer.W64(u, UtcbLayout.KernelGsBase, VmxStateTransfer.R64(v, VmcbLayout.KernelGsBase));
            words += 5;
        }
        if ((mtd & Mtd.Fpu) != 0) words += VmxStateTransfer.LoadFpu(regs, u);
        return words + VmxStateTransfer.Finish(u, regs, mtd);
    }

    /// <summary>
    /// <c>save_svm</c>: writes back what the UTCB's mtd word selects. INJ bit 0x1000 requests an interrupt window
    /// (V_IRQ with V_IGN_TPR and the VINTR intercept); EVENTINJ gets the 64-bit inj without the request bits. TSC adds
    /// tsc_off to the vCPU's offset. Afterwards the frame's portal is the recall portal.
    /// </summary>
    public static int Save(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs, ulong utcb)
    {
        ReadOnlySpan<byte> u = memory.RamBytes(utcb, UtcbLayout.Size);
        var mtd = (Mtd)(uint)VmxStateTransfer.R64(u, UtcbLayout.Mtd);
        var words = 1;
        var dirty = VmcbCleanBits.None;
        if ((mtd & Mtd.GprAcdb) != 0)
        {
            W64(memory, vmcb, VmcbLayout.Rax, VmxStateTransfer.R64(u, UtcbLayout.Rax));
            regs.Rcx = VmxStateTransfer.R64(u, UtcbLayout.Rcx);
            regs.Rdx = VmxStateTransfer.R64(u, UtcbLayout.Rdx);
            regs.Rbx = VmxStateTransfer.R64(u, UtcbLayout.Rbx);
            words += 4;
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            regs.Rbp = VmxStateTransfer.R64(u, UtcbLayout.Rbp);
            regs.Rsi = VmxStateTransfer.R64(u, UtcbLayout.Rsi);
            regs.Rdi = VmxStateTransfer.R64(u, UtcbLayout.Rdi);
            words += 3;
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            regs.R8 = VmxStateTransfer.R64(u, UtcbLayout.R8);
            regs.R9 = VmxStateTransfer.R64(u, UtcbLayout.R9);
            regs.R10 = VmxStateTransfer.R64(u, UtcbLayout.R10);
            regs.R11 = VmxStateTransfer.R64(u, UtcbLayout.R11);
            regs.R12 = VmxStateTransfer.R64(u, UtcbLayout.R12);
            regs.R13 = VmxStateTransfer.R64(u, UtcbLayout.R13);
            regs.R14 = VmxStateTransfer.R64(u, UtcbLayout.R14);
            regs.R15 = VmxStateTransfer.R64(u, UtcbLayout.R15);
            words += 8;
        }
        if ((mtd & Mtd.Rsp) != 0) { W64(memory, vmcb, VmcbLayout.Rsp, VmxStateTransfer.R64(u, UtcbLayout.Rsp)); words++; }
        if ((mtd & Mtd.RipLen) != 0) { W64(memory, vmcb, VmcbLayout.Rip, VmxStateTransfer.R64(u, UtcbLayout.Rip)); words++; }
        if ((mtd & Mtd.Rflags) != 0) { W64(memory, vmcb, VmcbLayout.Rflags, VmxStateTransfer.R64(u, UtcbLayout.Rflags)); words++; }
        if ((mtd & Mtd.DsEs) != 0)
        {
            SegmentFromUtcb(u, UtcbLayout.Ds, memory, vmcb + VmcbLayout.Ds);
            SegmentFromUtcb(u, UtcbLayout.Es, memory, vmcb + VmcbLayout.Es);
            dirty |= VmcbCleanBits.Seg;
            words += 4;
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            SegmentFromUtcb(u, UtcbLayout.Fs, memory, vmcb + VmcbLayout.Fs);
            SegmentFromUtcb(u, UtcbLayout.Gs, memory, vmcb + VmcbLayout.Gs);
            words += 4;
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            SegmentFromUtcb(u, UtcbLayout.Cs, memory, vmcb + VmcbLayout.Cs);
            SegmentFromUtcb(u, UtcbLayout.Ss, memory, vmcb + VmcbLayout.Ss);
            dirty |= VmcbCleanBits.Seg;
            words += 4;
        }
        if ((mtd & Mtd.Tr) != 0) { SegmentFromUtcb(u, UtcbLayout.Tr, memory, vmcb + VmcbLayout.Tr); words += 2; }
        if ((mtd & Mtd.Ldtr) != 0) { SegmentFromUtcb(u, UtcbLayout.Ld, memory, vmcb + VmcbLayout.Ldtr); words += 2; }
        if ((mtd & Mtd.Gdtr) != 0) { SegmentFromUtcb(u, UtcbLayout.Gd, memory, vmcb + VmcbLayout.Gdtr); dirty |= VmcbCleanBits.Dt; words += 2; }
        if ((mtd & Mtd.Idtr) != 0) { SegmentFromUtcb(u, UtcbLayout.Id, memory, vmcb + VmcbLayout.Idtr); dirty |= VmcbCleanBits.Dt; words += 2; }
        if ((mtd & Mtd.Cr) != 0)
        {
            WriteCr0(memory, vmcb, regs, VmxStateTransfer.R64(u, UtcbLayout.Cr0));
            W64(memory, vmcb, VmcbLayout.Cr2, VmxStateTransfer.R64(u, UtcbLayout.Cr2));
            var cr3 = VmxStateTransfer.R64(u, UtcbLayout.Cr3);
            if (regs.NestedPaging) W64(memory, vmcb, VmcbLayout.Cr3, cr3);
            else regs.Cr3Shadow = cr3;
            SetCr4(memory, vmcb, regs, VmxStateTransfer.R64(u, UtcbLayout.Cr4));
            dirty |= VmcbCleanBits.CrX | VmcbCleanBits.Cr2;
            words += 4;
        }
        if ((mtd & Mtd.Dr) != 0) { W64(memory, vmcb, VmcbLayout.Dr7, VmxStateTransfer.R64(u, UtcbLayout.Dr7)); dirty |= VmcbCleanBits.DrX; words++; }
        if ((mtd & Mtd.Sysenter) != 0)
        {
            W64(memory, vmcb, VmcbLayout.SysenterCs, VmxStateTransfer.R64(u, UtcbLayout.SysenterCs));
            W64(memory, vmcb, VmcbLayout.SysenterEsp, VmxStateTransfer.R64(u, UtcbLayout.SysenterRsp));
            W64(memory, vmcb, VmcbLayout.SysenterEip, VmxStateTransfer.R64(u, UtcbLayout.SysenterRip));
            words += 3;
        }
        if ((mtd & Mtd.Ctrl) != 0)
        {
            dirty |= NovaSvm.SetCtrl0(memory, vmcb, regs, VmxStateTransfer.R32(u, UtcbLayout.Ctrl0));
            dirty |= NovaSvm.SetCtrl1(memory, vmcb, VmxStateTransfer.R32(u, UtcbLayout.Ctrl1));
            words++;
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            var inj = VmxStateTransfer.R64(u, UtcbLayout.Inj);
            var vintr = memory.Read(vmcb + VmcbLayout.VIntr, 8);
            var cpu0 = (uint)memory.Read(vmcb + VmcbLayout.InterceptMisc1, 4);
            if ((inj & IntrWindowRequest) != 0)
            {
                vintr |= NovaSvm.VirtualIrqRequest;
                cpu0 |= NovaSvm.CpuVintr;
            }
            else
            {
                vintr &= ~NovaSvm.VirtualIrqRequest;
                cpu0 &= ~NovaSvm.CpuVintr;
            }
            memory.Write(vmcb + VmcbLayout.VIntr, 8, vintr);
            memory.Write(vmcb + VmcbLayout.InterceptMisc1, 4, cpu0);
            W64(memory, vmcb, VmcbLayout.EventInj, inj & ~(ulong)(IntrWindowRequest | NmiWindowRequest));
            dirty |= VmcbCleanBits.Tpr | VmcbCleanBits.I;
            words++;
        }
        if ((mtd & Mtd.Sta) != 0)
        {
            memory.Write(vmcb + VmcbLayout.InterruptShadow, 8, VmxStateTransfer.R32(u, UtcbLayout.IntrState));
            words++;
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            // add_tsc_offset sets HZD_TSC, which copies the offset into the VMCB before the next VMRUN.
            regs.TscOffset += VmxStateTransfer.R64(u, UtcbLayout.TscOff);
            W64(memory, vmcb, VmcbLayout.TscOffset, regs.TscOffset);
            dirty |= VmcbCleanBits.I;
            words++;
        }
        if ((mtd & Mtd.TscAux) != 0) { regs.TscAux = VmxStateTransfer.R64(u, UtcbLayout.TscAux); words++; }
        if ((mtd & Mtd.Xsave) != 0)
        {
            regs.Xcr0 = VmxStateTransfer.ConstrainXcr0(VmxStateTransfer.R64(u, UtcbLayout.Xcr0));
            regs.Xss = VmxStateTransfer.R64(u, UtcbLayout.Xss) & Processor.SupportedXss;
            words += 2;
        }
        if ((mtd & Mtd.Efer) != 0) { W64(memory, vmcb, VmcbLayout.Efer, VmxStateTransfer.R64(u, UtcbLayout.Efer)); dirty |= VmcbCleanBits.CrX; words++; }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            W64(memory, vmcb, VmcbLayout.Star, VmxStateTransfer.R64(u, UtcbLayout.Star));
            W64(memory, vmcb, VmcbLayout.Lstar, VmxStateTransfer.R64(u, UtcbLayout.Lstar));
            W64(memory, vmcb, VmcbLayout.Cstar, VmxStateTransfer.R64(u, UtcbLayout.Cstar));
            W64(memory, vmcb, VmcbLayout.Sfmask, VmxStateTransfer.R64(u, UtcbLayout.Fmask));
            W64(memory, vmcb, VmcbLayout.KernelGsBase, VmxStateTransfer.R64(u, UtcbLayout.KernelGsBase));
            words += 5;
        }
        if ((mtd & Mtd.Fpu) != 0) words += VmxStateTransfer.SaveFpu(regs, u);
        if (dirty != VmcbCleanBits.None)
            memory.Write(vmcb + VmcbLayout.VmcbClean, 4, memory.Read(vmcb + VmcbLayout.VmcbClean, 4) & ~(ulong)(uint)dirty);
        regs.DstPortal = NovaExit.Recall;
        return words;
    }

    public static ulong GetCr0(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs)
    {
        var mask = NovaVmx.Cr0Mask(regs, 0, 0);
        return (R64(memory, vmcb, VmcbLayout.Cr0) & ~mask) | (regs.Cr0Shadow & mask);
    }

    public static ulong GetCr4(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs)
    {
        var mask = NovaVmx.Cr4Mask(regs, 0, 0);
        return (R64(memory, vmcb, VmcbLayout.Cr4) & ~mask) | (regs.Cr4Shadow & mask);
    }

    /// <summary><c>set_cr0&lt;Vmcb&gt;</c>: the shadow is kept in the frame only (SVM has no read shadow).</summary>
    public static void SetCr0(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs, ulong value)
    {
        var set = NovaVmx.Cr0Set(regs, 0);
        W64(memory, vmcb, VmcbLayout.Cr0, (value & (~set | Cr0.PE)) | (set & ~Cr0.PE));
        regs.Cr0Shadow = value;
    }

    public static void SetCr4(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs, ulong value)
    {
        var set = NovaVmx.Cr4Set(regs, 0);
        var mask = NovaVmx.Cr4Mask(regs, 0, 0);
        W64(memory, vmcb, VmcbLayout.Cr4, (value & ~mask) | set);
        regs.Cr4Shadow = value;
    }

    private static void WriteCr0(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs, ulong value)
    {
        var toggled = GetCr0(memory, vmcb, regs) ^ value;
        SetCr0(memory, vmcb, regs, value);
        if ((toggled & Cr0.PG) == 0) return;
        var efer = R64(memory, vmcb, VmcbLayout.Efer);
        W64(memory, vmcb, VmcbLayout.Efer, (value & Cr0.PG) != 0 && (efer & EferLme) != 0 ? efer | EferLma : efer & ~EferLma);
    }

    private static void SegmentFromUtcb(ReadOnlySpan<byte> u, int from, PhysicalMemory memory, ulong to)
    {
        memory.Write(to, 8, VmxStateTransfer.R64(u, from));
        memory.Write(to + 8, 8, VmxStateTransfer.R64(u, from + 8));
    }

    private static void W64(PhysicalMemory memory, ulong at, int offset, ulong value) => memory.Write(at + (ulong)offset, 8, value);

    private static ulong R64(PhysicalMemory memory, ulong at, int offset) => memory.Read(at + (ulong)offset, 8);
}
