using Sim.Microkernels.Nova;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Tests.Nova.Genode;

internal readonly record struct UtcbField(int Offset, int Size);

/// <summary>
/// One register of a unified state, the MTD group Genode's base-nova backend moves it with, and the UTCB fields it
/// occupies (NH utcb.hpp offsets written out as numbers; segments are {u16 sel, u16 ar, u32 limit, u64 base}, gdtr and
/// idtr {u32 reserved, u32 limit, u64 base}).
/// </summary>
internal sealed record StateRegister<TState>(
    string Name, Mtd Group, UtcbField[] Fields, Func<TState, bool> IsSet, Func<TState, ulong[]> Values, Action<TState, ulong> Set)
{
    /// <summary>
    /// Whether this register alone puts its group into a 2019 portal MTD. Genode tests ip only for EIP: ip_len is read
    /// and written with ip, but a valid ip_len on its own requests nothing.
    /// </summary>
    public bool Triggers => Name != "ip_len";

    /// <summary>Whether this register alone is sent on the reply: as <see cref="Triggers"/>, and never the qualification, which Genode only reads.</summary>
    public bool Replied => Triggers && Group != Mtd.Qual;

    public override string ToString() => Name;
}

internal static class StateRegisters
{
    public static ulong Seed(int index) => 0x8070_6050_4030_2010UL ^ (ulong)(index + 1) * 0x0101_0103_0107_0109UL;

    private static Segment SegmentOf(ulong seed) => new((ushort)seed, (ushort)(seed >> 16), (uint)(seed >> 24), ~seed);

    private static UtcbField[] SegmentFields(int at) => [new(at, 2), new(at + 2, 2), new(at + 4, 4), new(at + 8, 8)];

    private static UtcbField[] TableFields(int at) => [new(at + 4, 4), new(at + 8, 8)];

    private static ulong[] SegmentValues(Segment s) => [s.Sel, s.Ar, s.Limit, s.Base];

    private static StateRegister<VmState> U64(string n, Mtd g, int at, Func<VmState, VmState.Register<ulong>> r) =>
        new(n, g, [new(at, 8)], s => r(s).Valid, s => [r(s).Value], (s, v) => r(s).SetValue(v));

    private static StateRegister<VmState> U32(string n, Mtd g, int at, Func<VmState, VmState.Register<uint>> r) =>
        new(n, g, [new(at, 4)], s => r(s).Valid, s => [r(s).Value], (s, v) => r(s).SetValue((uint)v));

    private static StateRegister<VmState> Seg(string n, Mtd g, int at, Func<VmState, VmState.Register<Segment>> r) =>
        new(n, g, SegmentFields(at), s => r(s).Valid, s => SegmentValues(r(s).Value), (s, v) => r(s).SetValue(SegmentOf(v)));

    private static StateRegister<VmState> Table(string n, Mtd g, int at, Func<VmState, VmState.Register<VmState.Range>> r) =>
        new(n, g, TableFields(at), s => r(s).Valid, s => [r(s).Value.Limit, r(s).Value.Base],
            (s, v) => r(s).SetValue(new VmState.Range(~v, (uint)v)));

    private static StateRegister<VcpuState> C64(string n, Mtd g, int at, Func<VcpuState, VcpuState.Register<ulong>> r) =>
        new(n, g, [new(at, 8)], s => r(s).Charged, s => [r(s).Value], (s, v) => r(s).Charge(v));

    private static StateRegister<VcpuState> C32(string n, Mtd g, int at, Func<VcpuState, VcpuState.Register<uint>> r) =>
        new(n, g, [new(at, 4)], s => r(s).Charged, s => [r(s).Value], (s, v) => r(s).Charge((uint)v));

    private static StateRegister<VcpuState> CSeg(string n, Mtd g, int at, Func<VcpuState, VcpuState.Register<Segment>> r) =>
        new(n, g, SegmentFields(at), s => r(s).Charged, s => SegmentValues(r(s).Value), (s, v) => r(s).Charge(SegmentOf(v)));

    private static StateRegister<VcpuState> CTable(string n, Mtd g, int at, Func<VcpuState, VcpuState.Register<VcpuState.Range>> r) =>
        new(n, g, TableFields(at), s => r(s).Charged, s => [r(s).Value.Limit, r(s).Value.Base],
            (s, v) => r(s).Charge(new VcpuState.Range((uint)v, ~v)));

    /// <summary>Every register of the 2019 state with its group (vm_session.cc) and UTCB fields.</summary>
    public static readonly StateRegister<VmState>[] Vm2019 =
    [
        U64("ax", Mtd.GprAcdb, 0x50, s => s.Ax), U64("cx", Mtd.GprAcdb, 0x58, s => s.Cx),
        U64("dx", Mtd.GprAcdb, 0x60, s => s.Dx), U64("bx", Mtd.GprAcdb, 0x68, s => s.Bx),
        U64("bp", Mtd.GprBsd, 0x78, s => s.Bp), U64("si", Mtd.GprBsd, 0x80, s => s.Si), U64("di", Mtd.GprBsd, 0x88, s => s.Di),
        U64("sp", Mtd.Rsp, 0x70, s => s.Sp),
        U64("ip", Mtd.RipLen, 0x30, s => s.Ip), U64("ip_len", Mtd.RipLen, 0x28, s => s.IpLen),
        U64("flags", Mtd.Rflags, 0x38, s => s.Flags),
        Seg("es", Mtd.DsEs, 0x198, s => s.Es), Seg("ds", Mtd.DsEs, 0x1C8, s => s.Ds),
        Seg("fs", Mtd.FsGs, 0x1D8, s => s.Fs), Seg("gs", Mtd.FsGs, 0x1E8, s => s.Gs),
        Seg("cs", Mtd.CsSs, 0x1A8, s => s.Cs), Seg("ss", Mtd.CsSs, 0x1B8, s => s.Ss),
        Seg("tr", Mtd.Tr, 0x208, s => s.Tr), Seg("ldtr", Mtd.Ldtr, 0x1F8, s => s.Ldtr),
        Table("gdtr", Mtd.Gdtr, 0x218, s => s.Gdtr), Table("idtr", Mtd.Idtr, 0x228, s => s.Idtr),
        U64("cr0", Mtd.Cr, 0xE8, s => s.Cr0), U64("cr2", Mtd.Cr, 0xF0, s => s.Cr2),
        U64("cr3", Mtd.Cr, 0xF8, s => s.Cr3), U64("cr4", Mtd.Cr, 0x100, s => s.Cr4),
        U64("dr7", Mtd.Dr, 0x178, s => s.Dr7),
        U64("sysenter_cs", Mtd.Sysenter, 0x180, s => s.SysenterCs), U64("sysenter_sp", Mtd.Sysenter, 0x188, s => s.SysenterSp),
        U64("sysenter_ip", Mtd.Sysenter, 0x190, s => s.SysenterIp),
        U64("qual_primary", Mtd.Qual, 0xD0, s => s.QualPrimary), U64("qual_secondary", Mtd.Qual, 0xD8, s => s.QualSecondary),
        U32("ctrl_primary", Mtd.Ctrl, 0xE0, s => s.CtrlPrimary), U32("ctrl_secondary", Mtd.Ctrl, 0xE4, s => s.CtrlSecondary),
        U32("inj_info", Mtd.Inj, 0x48, s => s.InjInfo), U32("inj_error", Mtd.Inj, 0x4C, s => s.InjError),
        U32("intr_state", Mtd.Sta, 0x40, s => s.IntrState), U32("actv_state", Mtd.Sta, 0x44, s => s.ActvState),
        U64("tsc", Mtd.Tsc, 0x238, s => s.Tsc), U64("tsc_offset", Mtd.Tsc, 0x240, s => s.TscOffset),
        U64("efer", Mtd.Efer, 0x140, s => s.Efer),
        U64("pdpte_0", Mtd.Pdpte, 0x118, s => s.Pdpte0), U64("pdpte_1", Mtd.Pdpte, 0x120, s => s.Pdpte1),
        U64("pdpte_2", Mtd.Pdpte, 0x128, s => s.Pdpte2), U64("pdpte_3", Mtd.Pdpte, 0x130, s => s.Pdpte3),
        U64("r8", Mtd.GprR8R15, 0x90, s => s.R8), U64("r9", Mtd.GprR8R15, 0x98, s => s.R9),
        U64("r10", Mtd.GprR8R15, 0xA0, s => s.R10), U64("r11", Mtd.GprR8R15, 0xA8, s => s.R11),
        U64("r12", Mtd.GprR8R15, 0xB0, s => s.R12), U64("r13", Mtd.GprR8R15, 0xB8, s => s.R13),
        U64("r14", Mtd.GprR8R15, 0xC0, s => s.R14), U64("r15", Mtd.GprR8R15, 0xC8, s => s.R15),
        U64("star", Mtd.SyscallSwapgs, 0x148, s => s.Star), U64("lstar", Mtd.SyscallSwapgs, 0x150, s => s.Lstar),
        U64("fmask", Mtd.SyscallSwapgs, 0x160, s => s.Fmask), U64("kernel_gs_base", Mtd.SyscallSwapgs, 0x168, s => s.KernelGsBase),
        U32("tpr", Mtd.Tpr, 0x170, s => s.Tpr), U32("tpr_threshold", Mtd.Tpr, 0x174, s => s.TprThreshold),
    ];

    /// <summary>Every register of the current state with its group (vm.cc) and UTCB fields.</summary>
    public static readonly StateRegister<VcpuState>[] Current =
    [
        C64("ax", Mtd.GprAcdb, 0x50, s => s.Ax), C64("cx", Mtd.GprAcdb, 0x58, s => s.Cx),
        C64("dx", Mtd.GprAcdb, 0x60, s => s.Dx), C64("bx", Mtd.GprAcdb, 0x68, s => s.Bx),
        C64("bp", Mtd.GprBsd, 0x78, s => s.Bp), C64("si", Mtd.GprBsd, 0x80, s => s.Si), C64("di", Mtd.GprBsd, 0x88, s => s.Di),
        C64("sp", Mtd.Rsp, 0x70, s => s.Sp),
        C64("ip", Mtd.RipLen, 0x30, s => s.Ip), C64("ip_len", Mtd.RipLen, 0x28, s => s.IpLen),
        C64("flags", Mtd.Rflags, 0x38, s => s.Flags),
        CSeg("es", Mtd.DsEs, 0x198, s => s.Es), CSeg("ds", Mtd.DsEs, 0x1C8, s => s.Ds),
        CSeg("fs", Mtd.FsGs, 0x1D8, s => s.Fs), CSeg("gs", Mtd.FsGs, 0x1E8, s => s.Gs),
        CSeg("cs", Mtd.CsSs, 0x1A8, s => s.Cs), CSeg("ss", Mtd.CsSs, 0x1B8, s => s.Ss),
        CSeg("tr", Mtd.Tr, 0x208, s => s.Tr), CSeg("ldtr", Mtd.Ldtr, 0x1F8, s => s.Ldtr),
        CTable("gdtr", Mtd.Gdtr, 0x218, s => s.Gdtr), CTable("idtr", Mtd.Idtr, 0x228, s => s.Idtr),
        C64("cr0", Mtd.Cr, 0xE8, s => s.Cr0), C64("cr2", Mtd.Cr, 0xF0, s => s.Cr2),
        C64("cr3", Mtd.Cr, 0xF8, s => s.Cr3), C64("cr4", Mtd.Cr, 0x100, s => s.Cr4),
        C64("dr7", Mtd.Dr, 0x178, s => s.Dr7),
        C64("sysenter_cs", Mtd.Sysenter, 0x180, s => s.SysenterCs), C64("sysenter_sp", Mtd.Sysenter, 0x188, s => s.SysenterSp),
        C64("sysenter_ip", Mtd.Sysenter, 0x190, s => s.SysenterIp),
        C64("qual_primary", Mtd.Qual, 0xD0, s => s.QualPrimary), C64("qual_secondary", Mtd.Qual, 0xD8, s => s.QualSecondary),
        C32("ctrl_primary", Mtd.Ctrl, 0xE0, s => s.CtrlPrimary), C32("ctrl_secondary", Mtd.Ctrl, 0xE4, s => s.CtrlSecondary),
        C32("inj_info", Mtd.Inj, 0x48, s => s.InjInfo), C32("inj_error", Mtd.Inj, 0x4C, s => s.InjError),
        C32("intr_state", Mtd.Sta, 0x40, s => s.IntrState), C32("actv_state", Mtd.Sta, 0x44, s => s.ActvState),
        C64("tsc", Mtd.Tsc, 0x238, s => s.Tsc), C64("tsc_offset", Mtd.Tsc, 0x240, s => s.TscOffset),
        C64("tsc_aux", Mtd.TscAux, 0x248, s => s.TscAux),
        C64("efer", Mtd.Efer, 0x140, s => s.Efer),
        C64("pdpte_0", Mtd.Pdpte, 0x118, s => s.Pdpte0), C64("pdpte_1", Mtd.Pdpte, 0x120, s => s.Pdpte1),
        C64("pdpte_2", Mtd.Pdpte, 0x128, s => s.Pdpte2), C64("pdpte_3", Mtd.Pdpte, 0x130, s => s.Pdpte3),
        C64("r8", Mtd.GprR8R15, 0x90, s => s.R8), C64("r9", Mtd.GprR8R15, 0x98, s => s.R9),
        C64("r10", Mtd.GprR8R15, 0xA0, s => s.R10), C64("r11", Mtd.GprR8R15, 0xA8, s => s.R11),
        C64("r12", Mtd.GprR8R15, 0xB0, s => s.R12), C64("r13", Mtd.GprR8R15, 0xB8, s => s.R13),
        C64("r14", Mtd.GprR8R15, 0xC0, s => s.R14), C64("r15", Mtd.GprR8R15, 0xC8, s => s.R15),
        C64("star", Mtd.SyscallSwapgs, 0x148, s => s.Star), C64("lstar", Mtd.SyscallSwapgs, 0x150, s => s.Lstar),
        C64("cstar", Mtd.SyscallSwapgs, 0x158, s => s.Cstar),
        C64("fmask", Mtd.SyscallSwapgs, 0x160, s => s.Fmask), C64("kernel_gs_base", Mtd.SyscallSwapgs, 0x168, s => s.KernelGsBase),
        C32("tpr", Mtd.Tpr, 0x170, s => s.Tpr), C32("tpr_threshold", Mtd.Tpr, 0x174, s => s.TprThreshold),
        C64("xcr0", Mtd.Xsave, 0x108, s => s.Xcr0), C64("xss", Mtd.Xsave, 0x110, s => s.Xss),
    ];

    public static Mtd[] Groups<TState>(StateRegister<TState>[] registers) => registers.Select(r => r.Group).Distinct().ToArray();
}
