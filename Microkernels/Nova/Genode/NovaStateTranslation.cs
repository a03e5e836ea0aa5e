using System.Buffers.Binary;
using Sim.Cpu.Memory;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// Genode's NOVA backend translation between the handler EC's UTCB (a page of simulated memory at <c>utcb</c>, laid out
/// as <see cref="UtcbLayout"/>) and the unified vCPU state: the 2019 <c>Vcpu::_read_nova_state</c>,
/// <c>_write_nova_state</c> and <c>portal_mtd</c> (base-nova src/lib/base/vm_session.cc) over <see cref="VmState"/>,
/// and the current <c>Nova_vcpu::_read_nova_state</c>, <c>_write_nova_state</c> and <c>_portal_mtd</c>
/// (base-nova src/lib/base/vm.cc) over <see cref="VcpuState"/>. Values are copied verbatim: segment AR stays in the
/// compact 16-bit format, the TSC offset is whatever the UTCB or the VMM holds (NOVA adds a written offset to the
/// current one), and a group's MTD bit on the reply is set when any of its registers is valid or charged, in which case
/// every register of the group is written, valid or not.
/// </summary>
public static class NovaStateTranslation
{
    /// <summary>Genode <c>Mtd::ALL</c>: everything up to TSC but CTRL, plus EFER, R8–R15, SYSCALL/SWAPGS and TPR; no PDPTE, no FPU.</summary>
    public const Mtd All = (Mtd)(0x000f_ffffu & ~(uint)Mtd.Ctrl) | Mtd.Efer | Mtd.GprR8R15 | Mtd.SyscallSwapgs | Mtd.Tpr;

    /// <summary>Genode <c>Mtd::IRQ</c>.</summary>
    public const Mtd Irq = Mtd.Rflags | Mtd.Sta | Mtd.Inj | Mtd.Tsc;

    /// <summary>The MTD current Genode puts on all 256 portals of a vCPU, whatever the exit configuration says.</summary>
    public const Mtd CurrentPortalMtd =
        Mtd.GprAcdb | Mtd.GprBsd | Mtd.Rflags | Mtd.Rsp | Mtd.RipLen | Mtd.Dr | Mtd.GprR8R15 | Mtd.Cr | Mtd.CsSs
        | Mtd.DsEs | Mtd.FsGs | Mtd.Tr | Mtd.Ldtr | Mtd.Gdtr | Mtd.Idtr | Mtd.Sysenter | Mtd.Ctrl | Mtd.Inj | Mtd.Sta
        | Mtd.Tsc | Mtd.TscAux | Mtd.Efer | Mtd.Pdpte | Mtd.SyscallSwapgs | Mtd.Tpr | Mtd.Qual | Mtd.Xsave | Mtd.Fpu;

    /// <summary>The MTD of the portal shared by all exits whose configuration yields 0 (badge exit 0x100).</summary>
    public const Mtd DontCarePortalMtd = Mtd.RipLen;

    /// <summary>The badge exit number of the shared "don't care" portal.</summary>
    public const uint DontCareExit = 0x100;

    /// <summary>The 512-byte FXSAVE image of the 2019 state, the legacy region at the start of the UTCB's XSAVE area.</summary>
    private const int FxsaveSize = VmState.FpuBuffer.Size;

    /// <summary>
    /// 2019 <c>portal_mtd(exit, handler)</c>: clears <paramref name="state"/>, lets the handler's exit configuration mark
    /// the registers it needs, and returns <see cref="All"/> if the handler has none, else the MTD of the marked
    /// registers, after which the state is cleared again.
    /// </summary>
    public static Mtd PortalMtd(VmState state, uint exit, VmHandlerBase handler)
    {
        state.Clear();
        if (!handler.ConfigVmEvent(state, exit))
            return All;
        return PortalMtd(state);
    }

    /// <summary>The MTD part of 2019 <c>portal_mtd</c>: the groups any of whose registers (or the FPU) <paramref name="touched"/> has valid; clears it afterwards.</summary>
    public static Mtd PortalMtd(VmState touched)
    {
        var s = touched;
        var mtd = Mtd.None;
        if (s.Ax.Valid || s.Cx.Valid || s.Dx.Valid || s.Bx.Valid) mtd |= Mtd.GprAcdb;
        if (s.Bp.Valid || s.Di.Valid || s.Si.Valid) mtd |= Mtd.GprBsd;
        if (s.Flags.Valid) mtd |= Mtd.Rflags;
        if (s.Sp.Valid) mtd |= Mtd.Rsp;
        if (s.Ip.Valid) mtd |= Mtd.RipLen;
        if (s.Dr7.Valid) mtd |= Mtd.Dr;
        if (s.R8.Valid || s.R9.Valid || s.R10.Valid || s.R11.Valid || s.R12.Valid || s.R13.Valid || s.R14.Valid || s.R15.Valid)
            mtd |= Mtd.GprR8R15;
        if (s.Cr0.Valid || s.Cr2.Valid || s.Cr3.Valid || s.Cr4.Valid) mtd |= Mtd.Cr;
        if (s.Cs.Valid || s.Ss.Valid) mtd |= Mtd.CsSs;
        if (s.Es.Valid || s.Ds.Valid) mtd |= Mtd.DsEs;
        if (s.Fs.Valid || s.Gs.Valid) mtd |= Mtd.FsGs;
        if (s.Tr.Valid) mtd |= Mtd.Tr;
        if (s.Ldtr.Valid) mtd |= Mtd.Ldtr;
        if (s.Gdtr.Valid) mtd |= Mtd.Gdtr;
        if (s.Idtr.Valid) mtd |= Mtd.Idtr;
        if (s.SysenterCs.Valid || s.SysenterSp.Valid || s.SysenterIp.Valid) mtd |= Mtd.Sysenter;
        if (s.CtrlPrimary.Valid || s.CtrlSecondary.Valid) mtd |= Mtd.Ctrl;
        if (s.InjInfo.Valid || s.InjError.Valid) mtd |= Mtd.Inj;
        if (s.IntrState.Valid || s.ActvState.Valid) mtd |= Mtd.Sta;
        if (s.Tsc.Valid || s.TscOffset.Valid) mtd |= Mtd.Tsc;
        if (s.Efer.Valid) mtd |= Mtd.Efer;
        if (s.Pdpte0.Valid || s.Pdpte1.Valid || s.Pdpte2.Valid || s.Pdpte3.Valid) mtd |= Mtd.Pdpte;
        if (s.Star.Valid || s.Lstar.Valid || s.Fmask.Valid || s.KernelGsBase.Valid) mtd |= Mtd.SyscallSwapgs;
        if (s.Tpr.Valid || s.TprThreshold.Valid) mtd |= Mtd.Tpr;
        if (s.QualPrimary.Valid || s.QualSecondary.Valid) mtd |= Mtd.Qual;
        if (s.Fpu.Valid) mtd |= Mtd.Fpu;
        s.Clear();
        return mtd;
    }

    /// <summary>
    /// 2019 <c>_read_nova_state</c>: <c>state = Vm_state {}</c>, the exit reason from the portal badge, then every
    /// group the UTCB's mtd word names becomes valid. The FPU image (Genode: <c>fxsave</c> of the FPU NOVA handed to
    /// the handler) is the FXSAVE legacy region of the UTCB's FPU area. No cstar, TSC_AUX or XSAVE in this API.
    /// </summary>
    public static void Read(PhysicalMemory memory, ulong utcb, VmState state, uint exitReason)
    {
        var u = memory.RamBytes(utcb, UtcbLayout.Size);
        state.Clear();
        state.ExitReason = exitReason;
        var mtd = (Mtd)(uint)R64(u, UtcbLayout.Mtd);

        if ((mtd & Mtd.Fpu) != 0)
            u.Slice(UtcbLayout.Fpu, FxsaveSize).CopyTo(state.Fpu.ValueSpan());

        if ((mtd & Mtd.GprAcdb) != 0)
        {
            state.Ax.SetValue(R64(u, UtcbLayout.Rax));
            state.Cx.SetValue(R64(u, UtcbLayout.Rcx));
            state.Dx.SetValue(R64(u, UtcbLayout.Rdx));
            state.Bx.SetValue(R64(u, UtcbLayout.Rbx));
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            state.Di.SetValue(R64(u, UtcbLayout.Rdi));
            state.Si.SetValue(R64(u, UtcbLayout.Rsi));
            state.Bp.SetValue(R64(u, UtcbLayout.Rbp));
        }
        if ((mtd & Mtd.Rflags) != 0) state.Flags.SetValue(R64(u, UtcbLayout.Rflags));
        if ((mtd & Mtd.Rsp) != 0) state.Sp.SetValue(R64(u, UtcbLayout.Rsp));
        if ((mtd & Mtd.Dr) != 0) state.Dr7.SetValue(R64(u, UtcbLayout.Dr7));
        if ((mtd & Mtd.RipLen) != 0)
        {
            state.Ip.SetValue(R64(u, UtcbLayout.Rip));
            state.IpLen.SetValue(R64(u, UtcbLayout.InstLen));
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            state.R8.SetValue(R64(u, UtcbLayout.R8));
            state.R9.SetValue(R64(u, UtcbLayout.R9));
            state.R10.SetValue(R64(u, UtcbLayout.R10));
            state.R11.SetValue(R64(u, UtcbLayout.R11));
            state.R12.SetValue(R64(u, UtcbLayout.R12));
            state.R13.SetValue(R64(u, UtcbLayout.R13));
            state.R14.SetValue(R64(u, UtcbLayout.R14));
            state.R15.SetValue(R64(u, UtcbLayout.R15));
        }
        if ((mtd & Mtd.Cr) != 0)
        {
            state.Cr0.SetValue(R64(u, UtcbLayout.Cr0));
            state.Cr2.SetValue(R64(u, UtcbLayout.Cr2));
            state.Cr3.SetValue(R64(u, UtcbLayout.Cr3));
            state.Cr4.SetValue(R64(u, UtcbLayout.Cr4));
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            state.Cs.SetValue(ReadSegment(u, UtcbLayout.Cs));
            state.Ss.SetValue(ReadSegment(u, UtcbLayout.Ss));
        }
        if ((mtd & Mtd.DsEs) != 0)
        {
            state.Es.SetValue(ReadSegment(u, UtcbLayout.Es));
            state.Ds.SetValue(ReadSegment(u, UtcbLayout.Ds));
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            state.Fs.SetValue(ReadSegment(u, UtcbLayout.Fs));
            state.Gs.SetValue(ReadSegment(u, UtcbLayout.Gs));
        }
        if ((mtd & Mtd.Tr) != 0) state.Tr.SetValue(ReadSegment(u, UtcbLayout.Tr));
        if ((mtd & Mtd.Ldtr) != 0) state.Ldtr.SetValue(ReadSegment(u, UtcbLayout.Ld));
        if ((mtd & Mtd.Gdtr) != 0)
            state.Gdtr.SetValue(new VmState.Range(TableBase(u, UtcbLayout.Gd), TableLimit(u, UtcbLayout.Gd)));
        if ((mtd & Mtd.Idtr) != 0)
            state.Idtr.SetValue(new VmState.Range(TableBase(u, UtcbLayout.Id), TableLimit(u, UtcbLayout.Id)));
        if ((mtd & Mtd.Sysenter) != 0)
        {
            state.SysenterCs.SetValue(R64(u, UtcbLayout.SysenterCs));
            state.SysenterSp.SetValue(R64(u, UtcbLayout.SysenterRsp));
            state.SysenterIp.SetValue(R64(u, UtcbLayout.SysenterRip));
        }
        if ((mtd & Mtd.Qual) != 0)
        {
            state.QualPrimary.SetValue(R64(u, UtcbLayout.Qual0));
            state.QualSecondary.SetValue(R64(u, UtcbLayout.Qual1));
        }
        if ((mtd & Mtd.Ctrl) != 0)
        {
            state.CtrlPrimary.SetValue(R32(u, UtcbLayout.Ctrl0));
            state.CtrlSecondary.SetValue(R32(u, UtcbLayout.Ctrl1));
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            state.InjInfo.SetValue(R32(u, UtcbLayout.IntrInfo));
            state.InjError.SetValue(R32(u, UtcbLayout.IntrError));
        }
        if ((mtd & Mtd.Sta) != 0)
        {
            state.IntrState.SetValue(R32(u, UtcbLayout.IntrState));
            state.ActvState.SetValue(R32(u, UtcbLayout.ActvState));
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            state.Tsc.SetValue(R64(u, UtcbLayout.TscVal));
            state.TscOffset.SetValue(R64(u, UtcbLayout.TscOff));
        }
        if ((mtd & Mtd.Efer) != 0) state.Efer.SetValue(R64(u, UtcbLayout.Efer));
        if ((mtd & Mtd.Pdpte) != 0)
        {
            state.Pdpte0.SetValue(R64(u, UtcbLayout.Pdpte0));
            state.Pdpte1.SetValue(R64(u, UtcbLayout.Pdpte1));
            state.Pdpte2.SetValue(R64(u, UtcbLayout.Pdpte2));
            state.Pdpte3.SetValue(R64(u, UtcbLayout.Pdpte3));
        }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            state.Star.SetValue(R64(u, UtcbLayout.Star));
            state.Lstar.SetValue(R64(u, UtcbLayout.Lstar));
            state.Fmask.SetValue(R64(u, UtcbLayout.Fmask));
            state.KernelGsBase.SetValue(R64(u, UtcbLayout.KernelGsBase));
        }
        if ((mtd & Mtd.Tpr) != 0)
        {
            state.Tpr.SetValue(R32(u, UtcbLayout.Tpr));
            state.TprThreshold.SetValue(R32(u, UtcbLayout.TprThreshold));
        }
    }

    /// <summary>
    /// 2019 <c>_write_nova_state</c>: items = 0, and the mtd word built from the valid registers. A valid FPU image goes
    /// to the FXSAVE region of the UTCB's FPU area (Genode: <c>fxrstor</c> into the handler's FPU, which NOVA hands back
    /// to the vCPU); like Genode, this does not set <see cref="Mtd.Fpu"/> in the mtd word.
    /// </summary>
    public static void Write(PhysicalMemory memory, ulong utcb, VmState state)
    {
        var u = memory.RamSpan(utcb, UtcbLayout.Size);
        var s = state;
        var mtd = Mtd.None;
        W64(u, UtcbLayout.Items, 0);

        if (s.Ax.Valid || s.Cx.Valid || s.Dx.Valid || s.Bx.Valid)
        {
            mtd |= Mtd.GprAcdb;
            W64(u, UtcbLayout.Rax, s.Ax.Value);
            W64(u, UtcbLayout.Rcx, s.Cx.Value);
            W64(u, UtcbLayout.Rdx, s.Dx.Value);
            W64(u, UtcbLayout.Rbx, s.Bx.Value);
        }
        if (s.Bp.Valid || s.Di.Valid || s.Si.Valid)
        {
            mtd |= Mtd.GprBsd;
            W64(u, UtcbLayout.Rdi, s.Di.Value);
            W64(u, UtcbLayout.Rsi, s.Si.Value);
            W64(u, UtcbLayout.Rbp, s.Bp.Value);
        }
        if (s.Flags.Valid) { mtd |= Mtd.Rflags; W64(u, UtcbLayout.Rflags, s.Flags.Value); }
        if (s.Sp.Valid) { mtd |= Mtd.Rsp; W64(u, UtcbLayout.Rsp, s.Sp.Value); }
        if (s.Ip.Valid)
        {
            mtd |= Mtd.RipLen;
            W64(u, UtcbLayout.Rip, s.Ip.Value);
            W64(u, UtcbLayout.InstLen, s.IpLen.Value);
        }
        if (s.Dr7.Valid) { mtd |= Mtd.Dr; W64(u, UtcbLayout.Dr7, s.Dr7.Value); }
        if (s.R8.Valid || s.R9.Valid || s.R10.Valid || s.R11.Valid || s.R12.Valid || s.R13.Valid || s.R14.Valid || s.R15.Valid)
        {
            mtd |= Mtd.GprR8R15;
            W64(u, UtcbLayout.R8, s.R8.Value);
            W64(u, UtcbLayout.R9, s.R9.Value);
            W64(u, UtcbLayout.R10, s.R10.Value);
            W64(u, UtcbLayout.R11, s.R11.Value);
            W64(u, UtcbLayout.R12, s.R12.Value);
            W64(u, UtcbLayout.R13, s.R13.Value);
            W64(u, UtcbLayout.R14, s.R14.Value);
            W64(u, UtcbLayout.R15, s.R15.Value);
        }
        if (s.Cr0.Valid || s.Cr2.Valid || s.Cr3.Valid || s.Cr4.Valid)
        {
            mtd |= Mtd.Cr;
            W64(u, UtcbLayout.Cr0, s.Cr0.Value);
            W64(u, UtcbLayout.Cr2, s.Cr2.Value);
            W64(u, UtcbLayout.Cr3, s.Cr3.Value);
            W64(u, UtcbLayout.Cr4, s.Cr4.Value);
        }
        if (s.Cs.Valid || s.Ss.Valid)
        {
            mtd |= Mtd.CsSs;
            WriteSegment(u, UtcbLayout.Cs, s.Cs.Value);
            WriteSegment(u, UtcbLayout.Ss, s.Ss.Value);
        }
        if (s.Es.Valid || s.Ds.Valid)
        {
            mtd |= Mtd.DsEs;
            WriteSegment(u, UtcbLayout.Es, s.Es.Value);
            WriteSegment(u, UtcbLayout.Ds, s.Ds.Value);
        }
        if (s.Fs.Valid || s.Gs.Valid)
        {
            mtd |= Mtd.FsGs;
            WriteSegment(u, UtcbLayout.Fs, s.Fs.Value);
            WriteSegment(u, UtcbLayout.Gs, s.Gs.Value);
        }
        if (s.Tr.Valid) { mtd |= Mtd.Tr; WriteSegment(u, UtcbLayout.Tr, s.Tr.Value); }
        if (s.Ldtr.Valid) { mtd |= Mtd.Ldtr; WriteSegment(u, UtcbLayout.Ld, s.Ldtr.Value); }
        if (s.Gdtr.Valid) { mtd |= Mtd.Gdtr; WriteTable(u, UtcbLayout.Gd, s.Gdtr.Value.Limit, s.Gdtr.Value.Base); }
        if (s.Idtr.Valid) { mtd |= Mtd.Idtr; WriteTable(u, UtcbLayout.Id, s.Idtr.Value.Limit, s.Idtr.Value.Base); }
        if (s.SysenterCs.Valid || s.SysenterSp.Valid || s.SysenterIp.Valid)
        {
            mtd |= Mtd.Sysenter;
            W64(u, UtcbLayout.SysenterCs, s.SysenterCs.Value);
            W64(u, UtcbLayout.SysenterRsp, s.SysenterSp.Value);
            W64(u, UtcbLayout.SysenterRip, s.SysenterIp.Value);
        }
        if (s.CtrlPrimary.Valid || s.CtrlSecondary.Valid)
        {
            mtd |= Mtd.Ctrl;
            W32(u, UtcbLayout.Ctrl0, s.CtrlPrimary.Value);
            W32(u, UtcbLayout.Ctrl1, s.CtrlSecondary.Value);
        }
        if (s.InjInfo.Valid || s.InjError.Valid)
        {
            mtd |= Mtd.Inj;
            W32(u, UtcbLayout.IntrInfo, s.InjInfo.Value);
            W32(u, UtcbLayout.IntrError, s.InjError.Value);
        }
        if (s.IntrState.Valid || s.ActvState.Valid)
        {
            mtd |= Mtd.Sta;
            W32(u, UtcbLayout.IntrState, s.IntrState.Value);
            W32(u, UtcbLayout.ActvState, s.ActvState.Value);
        }
        if (s.Tsc.Valid || s.TscOffset.Valid)
        {
            mtd |= Mtd.Tsc;
            W64(u, UtcbLayout.TscVal, s.Tsc.Value);
            W64(u, UtcbLayout.TscOff, s.TscOffset.Value);
        }
        if (s.Efer.Valid) { mtd |= Mtd.Efer; W64(u, UtcbLayout.Efer, s.Efer.Value); }
        if (s.Pdpte0.Valid || s.Pdpte1.Valid || s.Pdpte2.Valid || s.Pdpte3.Valid)
        {
            mtd |= Mtd.Pdpte;
            W64(u, UtcbLayout.Pdpte0, s.Pdpte0.Value);
            W64(u, UtcbLayout.Pdpte1, s.Pdpte1.Value);
            W64(u, UtcbLayout.Pdpte2, s.Pdpte2.Value);
            W64(u, UtcbLayout.Pdpte3, s.Pdpte3.Value);
        }
        if (s.Star.Valid || s.Lstar.Valid || s.Fmask.Valid || s.KernelGsBase.Valid)
        {
            mtd |= Mtd.SyscallSwapgs;
            W64(u, UtcbLayout.Star, s.Star.Value);
            W64(u, UtcbLayout.Lstar, s.Lstar.Value);
            W64(u, UtcbLayout.Fmask, s.Fmask.Value);
            W64(u, UtcbLayout.KernelGsBase, s.KernelGsBase.Value);
        }
        if (s.Tpr.Valid || s.TprThreshold.Valid)
        {
            mtd |= Mtd.Tpr;
            W32(u, UtcbLayout.Tpr, s.Tpr.Value);
            W32(u, UtcbLayout.TprThreshold, s.TprThreshold.Value);
        }
        if (s.Fpu.Valid)
            s.Fpu.Bytes.CopyTo(u[UtcbLayout.Fpu..]);

        W64(u, UtcbLayout.Mtd, (ulong)mtd);
    }

    /// <summary>
    /// Current <c>_read_nova_state</c>: discharges the state, takes the exit reason from the UTCB's exit_value, and
    /// charges every group the UTCB's mtd word names. The FPU is charged with the first <c>min(size(), 2560)</c> bytes
    /// of the UTCB's FPU area, size() being what the state reported last (the whole image before any report).
    /// </summary>
    public static void Read(PhysicalMemory memory, ulong utcb, VcpuState state)
    {
        var u = memory.RamBytes(utcb, UtcbLayout.Size);
        state.Discharge();
        state.ExitReason = (uint)R64(u, UtcbLayout.ExitValue);
        var mtd = (Mtd)(uint)R64(u, UtcbLayout.Mtd);

        if ((mtd & Mtd.Fpu) != 0)
        {
            var size = state.Fpu.Size == 0 ? UtcbLayout.FpuSize : Math.Min(state.Fpu.Size, UtcbLayout.FpuSize);
            u.Slice(UtcbLayout.Fpu, size).CopyTo(state.Fpu.ChargeSpan(size));
        }
        if ((mtd & Mtd.GprAcdb) != 0)
        {
            state.Ax.Charge(R64(u, UtcbLayout.Rax));
            state.Cx.Charge(R64(u, UtcbLayout.Rcx));
            state.Dx.Charge(R64(u, UtcbLayout.Rdx));
            state.Bx.Charge(R64(u, UtcbLayout.Rbx));
        }
        if ((mtd & Mtd.GprBsd) != 0)
        {
            state.Di.Charge(R64(u, UtcbLayout.Rdi));
            state.Si.Charge(R64(u, UtcbLayout.Rsi));
            state.Bp.Charge(R64(u, UtcbLayout.Rbp));
        }
        if ((mtd & Mtd.Rflags) != 0) state.Flags.Charge(R64(u, UtcbLayout.Rflags));
        if ((mtd & Mtd.Rsp) != 0) state.Sp.Charge(R64(u, UtcbLayout.Rsp));
        if ((mtd & Mtd.Dr) != 0) state.Dr7.Charge(R64(u, UtcbLayout.Dr7));
        if ((mtd & Mtd.RipLen) != 0)
        {
            state.Ip.Charge(R64(u, UtcbLayout.Rip));
            state.IpLen.Charge(R64(u, UtcbLayout.InstLen));
        }
        if ((mtd & Mtd.GprR8R15) != 0)
        {
            state.R8.Charge(R64(u, UtcbLayout.R8));
            state.R9.Charge(R64(u, UtcbLayout.R9));
            state.R10.Charge(R64(u, UtcbLayout.R10));
            state.R11.Charge(R64(u, UtcbLayout.R11));
            state.R12.Charge(R64(u, UtcbLayout.R12));
            state.R13.Charge(R64(u, UtcbLayout.R13));
            state.R14.Charge(R64(u, UtcbLayout.R14));
            state.R15.Charge(R64(u, UtcbLayout.R15));
        }
        if ((mtd & Mtd.Cr) != 0)
        {
            state.Cr0.Charge(R64(u, UtcbLayout.Cr0));
            state.Cr2.Charge(R64(u, UtcbLayout.Cr2));
            state.Cr3.Charge(R64(u, UtcbLayout.Cr3));
            state.Cr4.Charge(R64(u, UtcbLayout.Cr4));
        }
        if ((mtd & Mtd.CsSs) != 0)
        {
            state.Cs.Charge(ReadSegment(u, UtcbLayout.Cs));
            state.Ss.Charge(ReadSegment(u, UtcbLayout.Ss));
        }
        if ((mtd & Mtd.DsEs) != 0)
        {
            state.Es.Charge(ReadSegment(u, UtcbLayout.Es));
            state.Ds.Charge(ReadSegment(u, UtcbLayout.Ds));
        }
        if ((mtd & Mtd.FsGs) != 0)
        {
            state.Fs.Charge(ReadSegment(u, UtcbLayout.Fs));
            state.Gs.Charge(ReadSegment(u, UtcbLayout.Gs));
        }
        if ((mtd & Mtd.Tr) != 0) state.Tr.Charge(ReadSegment(u, UtcbLayout.Tr));
        if ((mtd & Mtd.Ldtr) != 0) state.Ldtr.Charge(ReadSegment(u, UtcbLayout.Ld));
        if ((mtd & Mtd.Gdtr) != 0)
            state.Gdtr.Charge(new VcpuState.Range(TableLimit(u, UtcbLayout.Gd), TableBase(u, UtcbLayout.Gd)));
        if ((mtd & Mtd.Idtr) != 0)
            state.Idtr.Charge(new VcpuState.Range(TableLimit(u, UtcbLayout.Id), TableBase(u, UtcbLayout.Id)));
        if ((mtd & Mtd.Sysenter) != 0)
        {
            state.SysenterCs.Charge(R64(u, UtcbLayout.SysenterCs));
            state.SysenterSp.Charge(R64(u, UtcbLayout.SysenterRsp));
            state.SysenterIp.Charge(R64(u, UtcbLayout.SysenterRip));
        }
        if ((mtd & Mtd.Qual) != 0)
        {
            state.QualPrimary.Charge(R64(u, UtcbLayout.Qual0));
            state.QualSecondary.Charge(R64(u, UtcbLayout.Qual1));
        }
        if ((mtd & Mtd.Ctrl) != 0)
        {
            state.CtrlPrimary.Charge(R32(u, UtcbLayout.Ctrl0));
            state.CtrlSecondary.Charge(R32(u, UtcbLayout.Ctrl1));
        }
        if ((mtd & Mtd.Inj) != 0)
        {
            state.InjInfo.Charge(R32(u, UtcbLayout.IntrInfo));
            state.InjError.Charge(R32(u, UtcbLayout.IntrError));
        }
        if ((mtd & Mtd.Sta) != 0)
        {
            state.IntrState.Charge(R32(u, UtcbLayout.IntrState));
            state.ActvState.Charge(R32(u, UtcbLayout.ActvState));
        }
        if ((mtd & Mtd.Tsc) != 0)
        {
            state.Tsc.Charge(R64(u, UtcbLayout.TscVal));
            state.TscOffset.Charge(R64(u, UtcbLayout.TscOff));
        }
        if ((mtd & Mtd.TscAux) != 0) state.TscAux.Charge(R64(u, UtcbLayout.TscAux));
        if ((mtd & Mtd.Efer) != 0) state.Efer.Charge(R64(u, UtcbLayout.Efer));
        if ((mtd & Mtd.Pdpte) != 0)
        {
            state.Pdpte0.Charge(R64(u, UtcbLayout.Pdpte0));
            state.Pdpte1.Charge(R64(u, UtcbLayout.Pdpte1));
            state.Pdpte2.Charge(R64(u, UtcbLayout.Pdpte2));
            state.Pdpte3.Charge(R64(u, UtcbLayout.Pdpte3));
        }
        if ((mtd & Mtd.SyscallSwapgs) != 0)
        {
            state.Star.Charge(R64(u, UtcbLayout.Star));
            state.Lstar.Charge(R64(u, UtcbLayout.Lstar));
            state.Cstar.Charge(R64(u, UtcbLayout.Cstar));
            state.Fmask.Charge(R64(u, UtcbLayout.Fmask));
            state.KernelGsBase.Charge(R64(u, UtcbLayout.KernelGsBase));
        }
        if ((mtd & Mtd.Tpr) != 0)
        {
            state.Tpr.Charge(R32(u, UtcbLayout.Tpr));
            state.TprThreshold.Charge(R32(u, UtcbLayout.TprThreshold));
        }
        if ((mtd & Mtd.Xsave) != 0)
        {
            state.Xcr0.Charge(R64(u, UtcbLayout.Xcr0));
            state.Xss.Charge(R64(u, UtcbLayout.Xss));
        }
    }

    /// <summary>
    /// Current <c>_write_nova_state</c>: items = 0, and the mtd word built from the charged registers, including
    /// TSC_AUX, cstar (with the SYSCALL/SWAPGS group), XSAVE (xcr0 and xss together) and the FPU, whose whole
    /// 2560-byte image is copied whatever its reported size.
    /// </summary>
    public static void Write(PhysicalMemory memory, ulong utcb, VcpuState state)
    {
        var u = memory.RamSpan(utcb, UtcbLayout.Size);
        var s = state;
        var mtd = Mtd.None;
        W64(u, UtcbLayout.Items, 0);

        if (s.Ax.Charged || s.Cx.Charged || s.Dx.Charged || s.Bx.Charged)
        {
            mtd |= Mtd.GprAcdb;
            W64(u, UtcbLayout.Rax, s.Ax.Value);
            W64(u, UtcbLayout.Rcx, s.Cx.Value);
            W64(u, UtcbLayout.Rdx, s.Dx.Value);
            W64(u, UtcbLayout.Rbx, s.Bx.Value);
        }
        if (s.Bp.Charged || s.Di.Charged || s.Si.Charged)
        {
            mtd |= Mtd.GprBsd;
            W64(u, UtcbLayout.Rdi, s.Di.Value);
            W64(u, UtcbLayout.Rsi, s.Si.Value);
            W64(u, UtcbLayout.Rbp, s.Bp.Value);
        }
        if (s.Flags.Charged) { mtd |= Mtd.Rflags; W64(u, UtcbLayout.Rflags, s.Flags.Value); }
        if (s.Sp.Charged) { mtd |= Mtd.Rsp; W64(u, UtcbLayout.Rsp, s.Sp.Value); }
        if (s.Ip.Charged)
        {
            mtd |= Mtd.RipLen;
            W64(u, UtcbLayout.Rip, s.Ip.Value);
            W64(u, UtcbLayout.InstLen, s.IpLen.Value);
        }
        if (s.Dr7.Charged) { mtd |= Mtd.Dr; W64(u, UtcbLayout.Dr7, s.Dr7.Value); }
        if (s.R8.Charged || s.R9.Charged || s.R10.Charged || s.R11.Charged || s.R12.Charged || s.R13.Charged || s.R14.Charged || s.R15.Charged)
        {
            mtd |= Mtd.GprR8R15;
            W64(u, UtcbLayout.R8, s.R8.Value);
            W64(u, UtcbLayout.R9, s.R9.Value);
            W64(u, UtcbLayout.R10, s.R10.Value);
            W64(u, UtcbLayout.R11, s.R11.Value);
            W64(u, UtcbLayout.R12, s.R12.Value);
            W64(u, UtcbLayout.R13, s.R13.Value);
            W64(u, UtcbLayout.R14, s.R14.Value);
            W64(u, UtcbLayout.R15, s.R15.Value);
        }
        if (s.Cr0.Charged || s.Cr2.Charged || s.Cr3.Charged || s.Cr4.Charged)
        {
            mtd |= Mtd.Cr;
            W64(u, UtcbLayout.Cr0, s.Cr0.Value);
            W64(u, UtcbLayout.Cr2, s.Cr2.Value);
            W64(u, UtcbLayout.Cr3, s.Cr3.Value);
            W64(u, UtcbLayout.Cr4, s.Cr4.Value);
        }
        if (s.Cs.Charged || s.Ss.Charged)
        {
            mtd |= Mtd.CsSs;
            WriteSegment(u, UtcbLayout.Cs, s.Cs.Value);
            WriteSegment(u, UtcbLayout.Ss, s.Ss.Value);
        }
        if (s.Es.Charged || s.Ds.Charged)
        {
            mtd |= Mtd.DsEs;
            WriteSegment(u, UtcbLayout.Es, s.Es.Value);
            WriteSegment(u, UtcbLayout.Ds, s.Ds.Value);
        }
        if (s.Fs.Charged || s.Gs.Charged)
        {
            mtd |= Mtd.FsGs;
            WriteSegment(u, UtcbLayout.Fs, s.Fs.Value);
            WriteSegment(u, UtcbLayout.Gs, s.Gs.Value);
        }
        if (s.Tr.Charged) { mtd |= Mtd.Tr; WriteSegment(u, UtcbLayout.Tr, s.Tr.Value); }
        if (s.Ldtr.Charged) { mtd |= Mtd.Ldtr; WriteSegment(u, UtcbLayout.Ld, s.Ldtr.Value); }
        if (s.Gdtr.Charged) { mtd |= Mtd.Gdtr; WriteTable(u, UtcbLayout.Gd, s.Gdtr.Value.Limit, s.Gdtr.Value.Base); }
        if (s.Idtr.Charged) { mtd |= Mtd.Idtr; WriteTable(u, UtcbLayout.Id, s.Idtr.Value.Limit, s.Idtr.Value.Base); }
        if (s.SysenterCs.Charged || s.SysenterSp.Charged || s.SysenterIp.Charged)
        {
            mtd |= Mtd.Sysenter;
            W64(u, UtcbLayout.SysenterCs, s.SysenterCs.Value);
            W64(u, UtcbLayout.SysenterRsp, s.SysenterSp.Value);
            W64(u, UtcbLayout.SysenterRip, s.SysenterIp.Value);
        }
        if (s.CtrlPrimary.Charged || s.CtrlSecondary.Charged)
        {
            mtd |= Mtd.Ctrl;
            W32(u, UtcbLayout.Ctrl0, s.CtrlPrimary.Value);
            W32(u, UtcbLayout.Ctrl1, s.CtrlSecondary.Value);
        }
        if (s.InjInfo.Charged || s.InjError.Charged)
        {
            mtd |= Mtd.Inj;
            W32(u, UtcbLayout.IntrInfo, s.InjInfo.Value);
            W32(u, UtcbLayout.IntrError, s.InjError.Value);
        }
        if (s.IntrState.Charged || s.ActvState.Charged)
        {
            mtd |= Mtd.Sta;
            W32(u, UtcbLayout.IntrState, s.IntrState.Value);
            W32(u, UtcbLayout.ActvState, s.ActvState.Value);
        }
        if (s.Tsc.Charged || s.TscOffset.Charged)
        {
            mtd |= Mtd.Tsc;
            W64(u, UtcbLayout.TscVal, s.Tsc.Value);
            W64(u, UtcbLayout.TscOff, s.TscOffset.Value);
        }
        if (s.TscAux.Charged) { mtd |= Mtd.TscAux; W64(u, UtcbLayout.TscAux, s.TscAux.Value); }
        if (s.Efer.Charged) { mtd |= Mtd.Efer; W64(u, UtcbLayout.Efer, s.Efer.Value); }
        if (s.Pdpte0.Charged || s.Pdpte1.Charged || s.Pdpte2.Charged || s.Pdpte3.Charged)
        {
            mtd |= Mtd.Pdpte;
            W64(u, UtcbLayout.Pdpte0, s.Pdpte0.Value);
            W64(u, UtcbLayout.Pdpte1, s.Pdpte1.Value);
            W64(u, UtcbLayout.Pdpte2, s.Pdpte2.Value);
            W64(u, UtcbLayout.Pdpte3, s.Pdpte3.Value);
        }
        if (s.Star.Charged || s.Lstar.Charged || s.Cstar.Charged || s.Fmask.Charged || s.KernelGsBase.Charged)
        {
            mtd |= Mtd.SyscallSwapgs;
            W64(u, UtcbLayout.Star, s.Star.Value);
            W64(u, UtcbLayout.Lstar, s.Lstar.Value);
            W64(u, UtcbLayout.Cstar, s.Cstar.Value);
            W64(u, UtcbLayout.Fmask, s.Fmask.Value);
            W64(u, UtcbLayout.KernelGsBase, s.KernelGsBase.Value);
        }
        if (s.Tpr.Charged || s.TprThreshold.Charged)
        {
            mtd |= Mtd.Tpr;
            W32(u, UtcbLayout.Tpr, s.Tpr.Value);
            W32(u, UtcbLayout.TprThreshold, s.TprThreshold.Value);
        }
        if (s.Xcr0.Charged || s.Xss.Charged)
        {
            W64(u, UtcbLayout.Xcr0, s.Xcr0.Value);
            W64(u, UtcbLayout.Xss, s.Xss.Value);
            mtd |= Mtd.Xsave;
        }
        if (s.Fpu.Charged)
        {
            mtd |= Mtd.Fpu;
            s.Fpu.Bytes.CopyTo(u[UtcbLayout.Fpu..]);
        }

        W64(u, UtcbLayout.Mtd, (ulong)mtd);
    }

    private static Segment ReadSegment(ReadOnlySpan<byte> u, int at) =>
        new(R16(u, at + UtcbLayout.SegmentSel), R16(u, at + UtcbLayout.SegmentAr), R32(u, at + UtcbLayout.SegmentLimit), R64(u, at + UtcbLayout.SegmentBase));

    private static void WriteSegment(Span<byte> u, int at, Segment segment)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(u[(at + UtcbLayout.SegmentSel)..], segment.Sel);
        BinaryPrimitives.WriteUInt16LittleEndian(u[(at + UtcbLayout.SegmentAr)..], segment.Ar);
        W32(u, at + UtcbLayout.SegmentLimit, segment.Limit);
        W64(u, at + UtcbLayout.SegmentBase, segment.Base);
    }

    // Genode's gdtr/idtr are {u32 reserved0; u32 limit; mword base}: sel and ar of the segment slot are left alone.
    private static uint TableLimit(ReadOnlySpan<byte> u, int at) => R32(u, at + UtcbLayout.SegmentLimit);

    private static ulong TableBase(ReadOnlySpan<byte> u, int at) => R64(u, at + UtcbLayout.SegmentBase);

    private static void WriteTable(Span<byte> u, int at, uint limit, ulong tableBase)
    {
        W32(u, at + UtcbLayout.SegmentLimit, limit);
        W64(u, at + UtcbLayout.SegmentBase, tableBase);
    }

    private static ulong R64(ReadOnlySpan<byte> u, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(u[offset..]);

    private static uint R32(ReadOnlySpan<byte> u, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(u[offset..]);

    private static ushort R16(ReadOnlySpan<byte> u, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(u[offset..]);

    private static void W64(Span<byte> u, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(u[offset..], value);

    private static void W32(Span<byte> u, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(u[offset..], value);
}
