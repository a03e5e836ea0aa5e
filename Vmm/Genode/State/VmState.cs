namespace Sim.Vmm.Genode;

/// <summary>
/// The unified vCPU state of the 2019 API (Genode 19.05 <c>Vm_state</c>, <c>spec/x86/cpu/vm_state.h</c>),
/// fields in declaration order. Each register has a valid flag, used in both directions: a backend marks
/// what it transferred on an exit, the VMM marks what it changed, and the backend loads only valid
/// registers on entry.
/// </summary>
public sealed partial class VmState
{
    public Register<ulong> Ax { get; } = new();
    public Register<ulong> Cx { get; } = new();
    public Register<ulong> Dx { get; } = new();
    public Register<ulong> Bx { get; } = new();

    public Register<ulong> Bp { get; } = new();
    public Register<ulong> Si { get; } = new();
    public Register<ulong> Di { get; } = new();

    public Register<ulong> Sp { get; } = new();
    public Register<ulong> Ip { get; } = new();
    public Register<ulong> IpLen { get; } = new();
    public Register<ulong> Flags { get; } = new();

    public Register<Segment> Es { get; } = new();
    public Register<Segment> Ds { get; } = new();
    public Register<Segment> Fs { get; } = new();
    public Register<Segment> Gs { get; } = new();
    public Register<Segment> Cs { get; } = new();
    public Register<Segment> Ss { get; } = new();
    public Register<Segment> Tr { get; } = new();
    public Register<Segment> Ldtr { get; } = new();

    public Register<Range> Gdtr { get; } = new();
    public Register<Range> Idtr { get; } = new();

    public Register<ulong> Cr0 { get; } = new();
    public Register<ulong> Cr2 { get; } = new();
    public Register<ulong> Cr3 { get; } = new();
    public Register<ulong> Cr4 { get; } = new();

    public Register<ulong> Dr7 { get; } = new();

    public Register<ulong> SysenterIp { get; } = new();
    public Register<ulong> SysenterSp { get; } = new();
    public Register<ulong> SysenterCs { get; } = new();

    public Register<ulong> QualPrimary { get; } = new();
    public Register<ulong> QualSecondary { get; } = new();

    public Register<uint> CtrlPrimary { get; } = new();
    public Register<uint> CtrlSecondary { get; } = new();

    public Register<uint> InjInfo { get; } = new();
    public Register<uint> InjError { get; } = new();

    public Register<uint> IntrState { get; } = new();
    public Register<uint> ActvState { get; } = new();

    public Register<ulong> Tsc { get; } = new();
    public Register<ulong> TscOffset { get; } = new();

    public Register<ulong> Efer { get; } = new();

    public Register<ulong> Pdpte0 { get; } = new();
    public Register<ulong> Pdpte1 { get; } = new();
    public Register<ulong> Pdpte2 { get; } = new();
    public Register<ulong> Pdpte3 { get; } = new();

    public Register<ulong> R8 { get; } = new();
    public Register<ulong> R9 { get; } = new();
    public Register<ulong> R10 { get; } = new();
    public Register<ulong> R11 { get; } = new();
    public Register<ulong> R12 { get; } = new();
    public Register<ulong> R13 { get; } = new();
    public Register<ulong> R14 { get; } = new();
    public Register<ulong> R15 { get; } = new();

    public Register<ulong> Star { get; } = new();
    public Register<ulong> Lstar { get; } = new();
    public Register<ulong> Fmask { get; } = new();
    public Register<ulong> KernelGsBase { get; } = new();

    public Register<uint> Tpr { get; } = new();
    public Register<uint> TprThreshold { get; } = new();

    /// <summary>The exit reason (§1.5 of the ABI notes); a plain field without a valid flag.</summary>
    public uint ExitReason { get; set; }

    public FpuBuffer Fpu { get; } = new();

    /// <summary>
    /// Genode's <c>operator=</c>: every register takes the other's valid flag, and its value only if
    /// that is valid; the exit reason is copied; the FPU becomes invalid.
    /// </summary>
    public void Assign(VmState other)
    {
        Ax.Assign(other.Ax); Cx.Assign(other.Cx); Dx.Assign(other.Dx); Bx.Assign(other.Bx);
        Bp.Assign(other.Bp); Si.Assign(other.Si); Di.Assign(other.Di);
        Sp.Assign(other.Sp); Ip.Assign(other.Ip); IpLen.Assign(other.IpLen); Flags.Assign(other.Flags);
        Es.Assign(other.Es); Ds.Assign(other.Ds); Fs.Assign(other.Fs); Gs.Assign(other.Gs);
        Cs.Assign(other.Cs); Ss.Assign(other.Ss); Tr.Assign(other.Tr); Ldtr.Assign(other.Ldtr);
        Gdtr.Assign(other.Gdtr); Idtr.Assign(other.Idtr);
        Cr0.Assign(other.Cr0); Cr2.Assign(other.Cr2); Cr3.Assign(other.Cr3); Cr4.Assign(other.Cr4);
        Dr7.Assign(other.Dr7);
        SysenterIp.Assign(other.SysenterIp); SysenterSp.Assign(other.SysenterSp); SysenterCs.Assign(other.SysenterCs);
        QualPrimary.Assign(other.QualPrimary); QualSecondary.Assign(other.QualSecondary);
        CtrlPrimary.Assign(other.CtrlPrimary); CtrlSecondary.Assign(other.CtrlSecondary);
        InjInfo.Assign(other.InjInfo); InjError.Assign(other.InjError);
        IntrState.Assign(other.IntrState); ActvState.Assign(other.ActvState);
        Tsc.Assign(other.Tsc); TscOffset.Assign(other.TscOffset);
        Efer.Assign(other.Efer);
        Pdpte0.Assign(other.Pdpte0); Pdpte1.Assign(other.Pdpte1); Pdpte2.Assign(other.Pdpte2); Pdpte3.Assign(other.Pdpte3);
        R8.Assign(other.R8); R9.Assign(other.R9); R10.Assign(other.R10); R11.Assign(other.R11);
        R12.Assign(other.R12); R13.Assign(other.R13); R14.Assign(other.R14); R15.Assign(other.R15);
        Star.Assign(other.Star); Lstar.Assign(other.Lstar); Fmask.Assign(other.Fmask); KernelGsBase.Assign(other.KernelGsBase);
        Tpr.Assign(other.Tpr); TprThreshold.Assign(other.TprThreshold);
        ExitReason = other.ExitReason;
        Fpu.Invalidate();
    }

    /// <summary>
    /// The effect of <c>state = Vm_state {}</c> without allocating: all registers and the FPU become
    /// invalid, their values stay, and the exit reason becomes 0.
    /// </summary>
    public void Clear()
    {
        Ax.Invalidate(); Cx.Invalidate(); Dx.Invalidate(); Bx.Invalidate();
        Bp.Invalidate(); Si.Invalidate(); Di.Invalidate();
        Sp.Invalidate(); Ip.Invalidate(); IpLen.Invalidate(); Flags.Invalidate();
        Es.Invalidate(); Ds.Invalidate(); Fs.Invalidate(); Gs.Invalidate();
        Cs.Invalidate(); Ss.Invalidate(); Tr.Invalidate(); Ldtr.Invalidate();
        Gdtr.Invalidate(); Idtr.Invalidate();
        Cr0.Invalidate(); Cr2.Invalidate(); Cr3.Invalidate(); Cr4.Invalidate();
        Dr7.Invalidate();
        SysenterIp.Invalidate(); SysenterSp.Invalidate(); SysenterCs.Invalidate();
        QualPrimary.Invalidate(); QualSecondary.Invalidate();
        CtrlPrimary.Invalidate(); CtrlSecondary.Invalidate();
        InjInfo.Invalidate(); InjError.Invalidate();
        IntrState.Invalidate(); ActvState.Invalidate();
        Tsc.Invalidate(); TscOffset.Invalidate();
        Efer.Invalidate();
        Pdpte0.Invalidate(); Pdpte1.Invalidate(); Pdpte2.Invalidate(); Pdpte3.Invalidate();
        R8.Invalidate(); R9.Invalidate(); R10.Invalidate(); R11.Invalidate();
        R12.Invalidate(); R13.Invalidate(); R14.Invalidate(); R15.Invalidate();
        Star.Invalidate(); Lstar.Invalidate(); Fmask.Invalidate(); KernelGsBase.Invalidate();
        Tpr.Invalidate(); TprThreshold.Invalidate();
        ExitReason = 0;
        Fpu.Invalidate();
    }
}
