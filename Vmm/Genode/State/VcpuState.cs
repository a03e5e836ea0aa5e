namespace Sim.Vmm.Genode;

/// <summary>
/// The unified vCPU state of the current API (Genode <c>Vcpu_state</c>, <c>spec/x86/cpu/vcpu_state.h</c>),
/// fields in declaration order, with the 2021 additions <c>tsc_aux</c> and <c>cstar</c> and the 2024
/// XSAVE additions <c>xcr0</c>, <c>xss</c> and the 2560-byte FPU image. Transfer is bidirectional: the
/// backend charges what it transferred on an exit, the VMM charges what it wants loaded on entry, and
/// each side discharges explicitly. Not copyable, as in Genode.
/// </summary>
public sealed partial class VcpuState
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
    public Register<ulong> TscAux { get; } = new();

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
    public Register<ulong> Cstar { get; } = new();
    public Register<ulong> Fmask { get; } = new();
    public Register<ulong> KernelGsBase { get; } = new();

    public Register<uint> Tpr { get; } = new();
    public Register<uint> TprThreshold { get; } = new();

    public Register<ulong> Xcr0 { get; } = new();
    public Register<ulong> Xss { get; } = new();
    /// <summary>The exit reason (§1.5 of the ABI notes); a plain field without a charged flag.</summary>
    public uint ExitReason { get; set; }

    /// <summary>The guest's FPU, SSE and AVX state as an XSAVE image.</summary>
    public FpuState Fpu { get; } = new();

    /// <summary>
    /// Clears every charged flag and keeps the register values. As Genode implements it by assigning a
    /// default-constructed state, whose plain exit reason is copied too, the exit reason becomes 0.
    /// </summary>
    public void Discharge()
    {
        Ax.Discharge();
        Cx.Discharge();
        Dx.Discharge();
        Bx.Discharge();
        Bp.Discharge();
        Si.Discharge();
        Di.Discharge();
        Sp.Discharge();
        Ip.Discharge();
        IpLen.Discharge();
        Flags.Discharge();
        Es.Discharge();
        Ds.Discharge();
        Fs.Discharge();
        Gs.Discharge();
        Cs.Discharge();
        Ss.Discharge();
        Tr.Discharge();
        Ldtr.Discharge();
        Gdtr.Discharge();
        Idtr.Discharge();
        Cr0.Discharge();
        Cr2.Discharge();
        Cr3.Discharge();
        Cr4.Discharge();
        Dr7.Discharge();
        SysenterIp.Discharge();
        SysenterSp.Discharge();
        SysenterCs.Discharge();
        QualPrimary.Discharge();
        QualSecondary.Discharge();
        CtrlPrimary.Discharge();
        CtrlSecondary.Discharge();
        InjInfo.Discharge();
        InjError.Discharge();
        IntrState.Discharge();
        ActvState.Discharge();
        Tsc.Discharge();
        TscOffset.Discharge();
        TscAux.Discharge();
        Efer.Discharge();
        Pdpte0.Discharge();
        Pdpte1.Discharge();
        Pdpte2.Discharge();
        Pdpte3.Discharge();
        R8.Discharge();
        R9.Discharge();
        R10.Discharge();
        R11.Discharge();
        R12.Discharge();
        R13.Discharge();
        R14.Discharge();
        R15.Discharge();
        Star.Discharge();
        Lstar.Discharge();
        Cstar.Discharge();
        Fmask.Discharge();
        KernelGsBase.Discharge();
        Tpr.Discharge();
        TprThreshold.Discharge();
        Xcr0.Discharge();
        Xss.Discharge();
        Fpu.Discharge();
        ExitReason = 0;
    }
}
