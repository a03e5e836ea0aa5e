namespace Sim.Microkernels.Nova;

/// <summary>
/// NOVA's message transfer descriptor for architectural state (alex-ab/NOVA r10, include/mtd.hpp): which groups of a
/// vCPU's state the kernel copies into the handler's UTCB on a VM exit (the portal's MTD) and back on the reply (the
/// UTCB's mtd word). <see cref="TscAux"/> and <see cref="Xsave"/> exist from the later r10 revisions on (NH).
/// </summary>
[Flags]
public enum Mtd : uint
{
    None = 0,
    GprAcdb = 1u << 0,
    GprBsd = 1u << 1,
    Rsp = 1u << 2,
    RipLen = 1u << 3,
    Rflags = 1u << 4,
    DsEs = 1u << 5,
    FsGs = 1u << 6,
    CsSs = 1u << 7,
    Tr = 1u << 8,
    Ldtr = 1u << 9,
    Gdtr = 1u << 10,
    Idtr = 1u << 11,
    Cr = 1u << 12,
    Dr = 1u << 13,
    Sysenter = 1u << 14,
    Qual = 1u << 15,
    Ctrl = 1u << 16,
    Inj = 1u << 17,
    Sta = 1u << 18,
    Tsc = 1u << 19,
    Efer = 1u << 20,
    Pdpte = 1u << 21,
    GprR8R15 = 1u << 22,
    SyscallSwapgs = 1u << 23,
    Tpr = 1u << 24,
    TscAux = 1u << 25,
    Xsave = 1u << 26,
    Fpu = 1u << 31,
}
