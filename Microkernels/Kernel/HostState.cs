namespace Sim.Microkernels.Kernel;

/// <summary>
/// The host environment a kernel model runs in on one processor: 64-bit mode at CPL 0, its GDT
/// with a 64-bit TSS, its IDT and page tables. The virtualization units need it for the host-state
/// area of a VMCS (SDM vol. 3, 25.5) and for what #VMEXIT reloads (APM vol. 2, 15.6).
/// </summary>
public sealed record HostState(
    ulong Cr0,
    ulong Cr3,
    ulong Cr4,
    ulong Efer,
    ushort CodeSelector,
    ushort DataSelector,
    ushort TssSelector,
    ulong TssBase,
    ulong GdtBase,
    ulong IdtBase,
    ulong Rsp,
    ulong Rip);
