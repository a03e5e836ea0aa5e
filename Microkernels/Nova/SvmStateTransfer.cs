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
        var words = 0;
        if ((mtd & Mtd.GprAcdb) != 0)
        {
            Copy(memory, vmcb, VmcbLayout.Rax, utcb, UtcbLayout.Rax);
            W64(memory, utcb, UtcbLayout.Rcx, regs.Rcx);
            W64(memory, utcb, UtcbLayout.Rdx, regs.Rdx);
            W64(memory, utcb, UtcbLayout.Rbx, regs.Rbx);
            words += 4;
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            W64(memory, utcb, UtcbLayout.Rbp, regs.Rbp);
            W64(memory, utcb, UtcbLayout.Rsi, regs.Rsi);
            W64(memory, utcb, UtcbLayout.Rdi, regs.Rdi);
            words += 3;
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            W64(memory, utcb, UtcbLayout.R8, regs.R8);
            W64(memory, utcb, UtcbLayout.R9, regs.R9);
            W64(memory, utcb, UtcbLayout.R10, regs.R10);
            W64(memory, utcb, UtcbLayout.R11, regs.R11);
            W64(memory, utcb, UtcbLayout.R12, regs.R12);
            W64(memory, utcb, UtcbLayout.R13, regs.R13);
            W64(memory, utcb, UtcbLayout.R14, regs.R14);
            W64(memory, utcb, UtcbLayout.R15, regs.R15);
            words += 8;
        }
        if ((mtd & Mtd.Rsp) != 0) { Copy(memory, vmcb, VmcbLayout.Rsp, utcb, UtcbLayout.Rsp); words++; }
        if ((mtd & Mtd.RipLen) != 0) { Copy(memory, vmcb, VmcbLayout.Rip, utcb, UtcbLayout.Rip); words++; }
        if ((mtd & Mtd.Rflags) != 0) { Copy(memory, vmcb, VmcbLayout.Rflags, utcb, UtcbLayout.Rflags); words++; }
        if ((mtd & Mtd.DsEs) != 0)
        {
            CopySegment(memory, vmcb + VmcbLayout.Ds, utcb + UtcbLayout.Ds);
            CopySegment(memory, vmcb + VmcbLayout.Es, utcb + UtcbLayout.Es);
            words += 4;
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            CopySegment(memory, vmcb + VmcbLayout.Fs, utcb + UtcbLayout.Fs);
            CopySegment(memory, vmcb + VmcbLayout.Gs, utcb + UtcbLayout.Gs);
            words += 4;
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            CopySegment(memory, vmcb + VmcbLayout.Cs, utcb + UtcbLayout.Cs);
            CopySegment(memory, vmcb + VmcbLayout.Ss, utcb + UtcbLayout.Ss);
            words += 4;
        }
        if ((mtd & Mtd.Tr) != 0) { CopySegment(memory, vmcb + VmcbLayout.Tr, utcb + UtcbLayout.Tr); words += 2; }
        if ((mtd & Mtd.Ldtr) != 0) { CopySegment(memory, vmcb + VmcbLayout.Ldtr, utcb + UtcbLayout.Ld); words += 2; }
        if ((mtd & Mtd.Gdtr) != 0) { CopySegment(memory, vmcb + VmcbLayout.Gdtr, utcb + UtcbLayout.Gd); words += 2; }
        if ((mtd & Mtd.Idtr) != 0) { CopySegment(memory, vmcb + VmcbLayout.Idtr, utcb + UtcbLayout.Id); words += 2; }
        if ((mtd & Mtd.Cr) != 0)
        {
            W64(memory, utcb, UtcbLayout.Cr0, GetCr0(memory, vmcb, regs));
            Copy(memory, vmcb, VmcbLayout.Cr2, utcb, UtcbLayout.Cr2);
            W64(memory, utcb, UtcbLayout.Cr3, regs.NestedPaging ? R64(memory, vmcb, VmcbLayout.Cr3) : regs.Cr3Shadow);
            W64(memory, utcb, UtcbLayout.Cr4, GetCr4(memory, vmcb, regs));
            words += 4;
        }
        if ((mtd & Mtd.Dr) != 0) { Copy(memory, vmcb, VmcbLayout.Dr7, utcb, UtcbLayout.Dr7); words++; }
        if ((mtd & Mtd.Sysenter) != 0)
        {
            Copy(memory, vmcb, VmcbLayout.SysenterCs, utcb, UtcbLayout.SysenterCs);
            Copy(memory, vmcb, VmcbLayout.SysenterEsp, utcb, UtcbLayout.SysenterRsp);
            Copy(memory, vmcb, VmcbLayout.SysenterEip, utcb, UtcbLayout.SysenterRip);
            words += 3;
        }
        if ((mtd & Mtd.Qual) != 0)
        {
            if (regs.DstPortal == NovaExit.Npt)
            {
                W64(memory, utcb, UtcbLayout.Qual0, regs.NstError);
                W64(memory, utcb, UtcbLayout.Qual1, regs.NstFault);
            }
            else
            {
                Copy(memory, vmcb, VmcbLayout.ExitInfo1, utcb, UtcbLayout.Qual0);
                Copy(memory, vmcb, VmcbLayout.ExitInfo2, utcb, UtcbLayout.Qual1);
            }
            words += 2;
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            var pending = regs.DstPortal is NovaExit.InvalidState or NovaExit.Recall;
            Copy(memory, vmcb, pending ? VmcbLayout.EventInj : VmcbLayout.ExitIntInfo, utcb, UtcbLayout.Inj);
            words++;
        }
        if ((mtd & Mtd.Sta) != 0)
        {
            memory.Write(utcb + UtcbLayout.IntrState, 4, memory.Read(vmcb + VmcbLayout.InterruptShadow, 4));
            memory.Write(utcb + UtcbLayout.ActvState, 4, 0);
            words++;
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            W64(memory, utcb, UtcbLayout.TscVal, hostTsc);
            W64(memory, utcb, UtcbLayout.TscOff, regs.TscOffset);
            words += 2;
        }
        if ((mtd & Mtd.TscAux) != 0) { W64(memory, utcb, UtcbLayout.TscAux, regs.TscAux); words++; }
        if ((mtd & Mtd.Xsave) != 0)
        {
            W64(memory, utcb, UtcbLayout.Xcr0, regs.Xcr0);
            W64(memory, utcb, UtcbLayout.Xss, regs.Xss);
            words += 2;
        }
        if ((mtd & Mtd.Efer) != 0) { Copy(memory, vmcb, VmcbLayout.Efer, utcb, UtcbLayout.Efer); words++; }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            Copy(memory, vmcb, VmcbLayout.Star, utcb, UtcbLayout.Star);
            Copy(memory, vmcb, VmcbLayout.Lstar, utcb, UtcbLayout.Lstar);
            Copy(memory, vmcb, VmcbLayout.Cstar, utcb, UtcbLayout.Cstar);
            Copy(memory, vmcb, VmcbLayout.Sfmask, utcb, UtcbLayout.Fmask);
            Copy(memory, vmcb, VmcbLayout.KernelGsBase, utcb, UtcbLayout.KernelGsBase);
            words += 5;
        }
        if ((mtd & Mtd.Fpu) != 0) words += VmxStateTransfer.LoadFpu(regs, memory, utcb);
        return words + VmxStateTransfer.Finish(memory, utcb, regs, mtd);
    }

    /// <summary>
    /// <c>save_svm</c>: writes back what the UTCB's mtd word selects. INJ bit 0x1000 requests an interrupt window
    /// (V_IRQ with V_IGN_TPR and the VINTR intercept); EVENTINJ gets the 64-bit inj without the request bits. TSC adds
    /// tsc_off to the vCPU's offset. Afterwards the frame's portal is the recall portal.
    /// </summary>
    public static int Save(PhysicalMemory memory, ulong vmcb, VcpuRegisters regs, ulong utcb)
    {
        var mtd = (Mtd)(uint)memory.Read(utcb + UtcbLayout.Mtd, 8);
        var words = 1;
        var dirty = VmcbCleanBits.None;
        if ((mtd & Mtd.GprAcdb) != 0)
        {
            Copy(memory, utcb, UtcbLayout.Rax, vmcb, VmcbLayout.Rax);
            regs.Rcx = R64(memory, utcb, UtcbLayout.Rcx);
            regs.Rdx = R64(memory, utcb, UtcbLayout.Rdx);
            regs.Rbx = R64(memory, utcb, UtcbLayout.Rbx);
            words += 4;
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            regs.Rbp = R64(memory, utcb, UtcbLayout.Rbp);
            regs.Rsi = R64(memory, utcb, UtcbLayout.Rsi);
            regs.Rdi = R64(memory, utcb, UtcbLayout.Rdi);
            words += 3;
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            regs.R8 = R64(memory, utcb, UtcbLayout.R8);
            regs.R9 = R64(memory, utcb, UtcbLayout.R9);
            regs.R10 = R64(memory, utcb, UtcbLayout.R10);
            regs.R11 = R64(memory, utcb, UtcbLayout.R11);
            regs.R12 = R64(memory, utcb, UtcbLayout.R12);
            regs.R13 = R64(memory, utcb, UtcbLayout.R13);
            regs.R14 = R64(memory, utcb, UtcbLayout.R14);
            regs.R15 = R64(memory, utcb, UtcbLayout.R15);
            words += 8;
        }
        if ((mtd & Mtd.Rsp) != 0) { Copy(memory, utcb, UtcbLayout.Rsp, vmcb, VmcbLayout.Rsp); words++; }
        if ((mtd & Mtd.RipLen) != 0) { Copy(memory, utcb, UtcbLayout.Rip, vmcb, VmcbLayout.Rip); words++; }
        if ((mtd & Mtd.Rflags) != 0) { Copy(memory, utcb, UtcbLayout.Rflags, vmcb, VmcbLayout.Rflags); words++; }
        if ((mtd & Mtd.DsEs) != 0)
        {
            CopySegment(memory, utcb + UtcbLayout.Ds, vmcb + VmcbLayout.Ds);
            CopySegment(memory, utcb + UtcbLayout.Es, vmcb + VmcbLayout.Es);
            dirty |= VmcbCleanBits.Seg;
            words += 4;
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            CopySegment(memory, utcb + UtcbLayout.Fs, vmcb + VmcbLayout.Fs);
            CopySegment(memory, utcb + UtcbLayout.Gs, vmcb + VmcbLayout.Gs);
            words += 4;
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            CopySegment(memory, utcb + UtcbLayout.Cs, vmcb + VmcbLayout.Cs);
            CopySegment(memory, utcb + UtcbLayout.Ss, vmcb + VmcbLayout.Ss);
            dirty |= VmcbCleanBits.Seg;
            words += 4;
        }
        if ((mtd & Mtd.Tr) != 0) { CopySegment(memory, utcb + UtcbLayout.Tr, vmcb + VmcbLayout.Tr); words += 2; }
        if ((mtd & Mtd.Ldtr) != 0) { CopySegment(memory, utcb + UtcbLayout.Ld, vmcb + VmcbLayout.Ldtr); words += 2; }
        if ((mtd & Mtd.Gdtr) != 0) { CopySegment(memory, utcb + UtcbLayout.Gd, vmcb + VmcbLayout.Gdtr); dirty |= VmcbCleanBits.Dt; words += 2; }
        if ((mtd & Mtd.Idtr) != 0) { CopySegment(memory, utcb + UtcbLayout.Id, vmcb + VmcbLayout.Idtr); dirty |= VmcbCleanBits.Dt; words += 2; }
        if ((mtd & Mtd.Cr) != 0)
        {
            WriteCr0(memory, vmcb, regs, R64(memory, utcb, UtcbLayout.Cr0));
            Copy(memory, utcb, UtcbLayout.Cr2, vmcb, VmcbLayout.Cr2);
            var cr3 = R64(memory, utcb, UtcbLayout.Cr3);
            if (regs.NestedPaging) W64(memory, vmcb, VmcbLayout.Cr3, cr3);
            else regs.Cr3Shadow = cr3;
            SetCr4(memory, vmcb, regs, R64(memory, utcb, UtcbLayout.Cr4));
            dirty |= VmcbCleanBits.CrX | VmcbCleanBits.Cr2;
            words += 4;
        }
        if ((mtd & Mtd.Dr) != 0) { Copy(memory, utcb, UtcbLayout.Dr7, vmcb, VmcbLayout.Dr7); dirty |= VmcbCleanBits.DrX; words++; }
        if ((mtd & Mtd.Sysenter) != 0)
        {
            Copy(memory, utcb, UtcbLayout.SysenterCs, vmcb, VmcbLayout.SysenterCs);
            Copy(memory, utcb, UtcbLayout.SysenterRsp, vmcb, VmcbLayout.SysenterEsp);
            Copy(memory, utcb, UtcbLayout.SysenterRip, vmcb, VmcbLayout.SysenterEip);
            words += 3;
        }
        if ((mtd & Mtd.Ctrl) != 0)
        {
            dirty |= NovaSvm.SetCtrl0(memory, vmcb, regs, (uint)memory.Read(utcb + UtcbLayout.Ctrl0, 4));
            dirty |= NovaSvm.SetCtrl1(memory, vmcb, (uint)memory.Read(utcb + UtcbLayout.Ctrl1, 4));
            words++;
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            var inj = R64(memory, utcb, UtcbLayout.Inj);
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
            memory.Write(vmcb + VmcbLayout.InterruptShadow, 8, memory.Read(utcb + UtcbLayout.IntrState, 4));
            words++;
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            // add_tsc_offset sets HZD_TSC, which copies the offset into the VMCB before the next VMRUN.
            regs.TscOffset += R64(memory, utcb, UtcbLayout.TscOff);
            W64(memory, vmcb, VmcbLayout.TscOffset, regs.TscOffset);
            dirty |= VmcbCleanBits.I;
            words++;
        }
        if ((mtd & Mtd.TscAux) != 0) { regs.TscAux = R64(memory, utcb, UtcbLayout.TscAux); words++; }
        if ((mtd & Mtd.Xsave) != 0)
        {
            regs.Xcr0 = VmxStateTransfer.ConstrainXcr0(R64(memory, utcb, UtcbLayout.Xcr0));
            regs.Xss = R64(memory, utcb, UtcbLayout.Xss) & Processor.SupportedXss;
            words += 2;
        }
        if ((mtd & Mtd.Efer) != 0) { Copy(memory, utcb, UtcbLayout.Efer, vmcb, VmcbLayout.Efer); dirty |= VmcbCleanBits.CrX; words++; }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            Copy(memory, utcb, UtcbLayout.Star, vmcb, VmcbLayout.Star);
            Copy(memory, utcb, UtcbLayout.Lstar, vmcb, VmcbLayout.Lstar);
            Copy(memory, utcb, UtcbLayout.Cstar, vmcb, VmcbLayout.Cstar);
            Copy(memory, utcb, UtcbLayout.Fmask, vmcb, VmcbLayout.Sfmask);
            Copy(memory, utcb, UtcbLayout.KernelGsBase, vmcb, VmcbLayout.KernelGsBase);
            words += 5;
        }
        if ((mtd & Mtd.Fpu) != 0) words += VmxStateTransfer.SaveFpu(regs, memory, utcb);
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

    private static void CopySegment(PhysicalMemory memory, ulong from, ulong to)
    {
        memory.Write(to, 8, memory.Read(from, 8));
        memory.Write(to + 8, 8, memory.Read(from + 8, 8));
    }

    private static void Copy(PhysicalMemory memory, ulong from, int fromOffset, ulong to, int toOffset) =>
        memory.Write(to + (ulong)toOffset, 8, memory.Read(from + (ulong)fromOffset, 8));

    private static void W64(PhysicalMemory memory, ulong at, int offset, ulong value) => memory.Write(at + (ulong)offset, 8, value);

    private static ulong R64(PhysicalMemory memory, ulong at, int offset) => memory.Read(at + (ulong)offset, 8);
}
