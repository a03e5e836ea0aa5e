using System.Globalization;
using Iced.Intel;
using Sim.Images.Guests;

namespace Sim.Differential.Tests;

/// <summary>
/// Divergences where the reference emulator, not sim, leaves the SDM (or models a different CPU),
/// decided by the other oracle and the SDM. Matched like <see cref="KnownDivergences"/>, but they stay.
/// </summary>
public static class OracleDeviations
{
    public static readonly KnownDivergences.Entry[] All =
    [
        new(null, Mnemonic.Cmpxchg8b, null, CompareExchangeFlags, Oracle.Qemu),
        new(GuestMode.Long64, Mnemonic.Cmpxchg16b, null, CompareExchangeFlags, Oracle.Qemu),
        new(null, Mnemonic.Tzcnt, null, TzcntIsBsf, Oracle.Bochs),
        new(GuestMode.Long64, null, "rsi", ZeroCountString, Oracle.Bochs, ZeroCountString32),
        new(GuestMode.Long64, null, "rdi", ZeroCountString, Oracle.Bochs, ZeroCountString32),
        new(GuestMode.Long64, null, null, Frame16In64BitMode, Oracle.Bochs, HasFrame16),
        new(GuestMode.Protected32, null, "edx", DebugFaultResumeFlag, Oracle.Bochs, c => c.Kind.StartsWith("debug", StringComparison.Ordinal), OnlyResumeFlag),
        new(GuestMode.Protected32, null, "ebp", StaleDisabledBreakpoints, Oracle.Bochs, c => c.Kind.StartsWith("debug", StringComparison.Ordinal), OnlyMoreBreakpointBits),
        new(GuestMode.Protected32, Mnemonic.Mov, "vector", MovDebugFaultOrder, Oracle.Bochs, c => c.Kind.StartsWith("user mov dr4", StringComparison.Ordinal)),
        new(GuestMode.Protected32, Mnemonic.Mov, null, MovDebugFaultOrder, Oracle.Bochs, c => c.Kind.StartsWith("user mov dr gd", StringComparison.Ordinal)),
    ];

    /// <summary>Lines of the built-in guests' output that a reference emulator gets wrong.</summary>
    public static readonly GuestOutputDeviation[] GuestOutput =
    [
        new("vmx", Oracle.Bochs, VmxPageWalkViolation(0x83), VmxPageWalkViolation(0x82), EptAccessedDirtyWalkQualification),
    ];

    /// <summary>The VMX guest's line for the EPT violation on its 64-bit guest's page directory.</summary>
    private static string VmxPageWalkViolation(ulong qualification) => string.Create(CultureInfo.InvariantCulture,
        $"exit 30 ept gpa {VmxHypervisorGuest.LongGuestPageDirectory:x} gla {VmxHypervisorGuest.LongGuestCode:x} q {qualification:x} rip {VmxHypervisorGuest.LongGuestCode:x}");

    private const string EptAccessedDirtyWalkQualification =
        "Bochs 2.7: with EPT accessed/dirty flags enabled (EPTP bit 6), an EPT violation on a guest paging-structure access sets only bit 1 (write) of the exit qualification; "
        + "the SDM (vol. 3, table 28-7, note 1) says such accesses are treated as writes and the processor sets both bit 0 and bit 1";

    /// <summary>Why the smp guest prints "tsc-deadline: n/a" on QEMU: a feature missing from the oracle's CPU model, not a wrong one.</summary>
    public const string QemuTcgHasNoTscDeadline =
        "QEMU 7.2 TCG has no TSC-deadline timer: it clears CPUID.01H:ECX[24] whatever -cpu asks (\"TCG doesn't support requested feature: CPUID.01H:ECX.tsc-deadline [bit 24]\", also for -cpu max), "
        + "so the smp guest reports it as n/a there; sim announces it and the SDM (vol. 3, 11.5.4.1) describes it, so the guest's line differs and nothing else does";

    private const string CompareExchangeFlags =
        "QEMU 7.2: CMPXCHG8B/CMPXCHG16B change flags other than ZF; the SDM says only ZF changes, and Bochs agrees with sim";

    private const string TzcntIsBsf =
        "CPU model: Bochs' corei7_skylake_x has BMI1, so F3 0F BC is TZCNT; sim (and the QEMU model) announce no BMI1 and run it as BSF";

    private const string ZeroCountString =
        "Bochs: a REP string instruction with a 32-bit address size and ECX=0 in 64-bit mode clears the upper halves of RSI/RDI (Bochs' source: \"always clear upper part\"); the SDM's pseudocode runs no iteration and writes nothing, as sim and QEMU do";

    private const string Frame16In64BitMode =
        "Bochs 2.7: in 64-bit mode ENTER and LEAVE with a 66h prefix run with a 64-bit operand size (quadword pushes and pops of RBP and the frame pointers); "
        + "the SDM (vol. 2, ENTER and LEAVE: in 64-bit mode the operand size is 64 bits by default and 16 bits with 66H; ENTER, OperandSize = 16: Push(BP), BP := FrameTemp[15:0]; LEAVE, OperandSize = 16: BP := Pop()) uses words, as sim and QEMU do";

    private const string DebugFaultResumeFlag =
        "Bochs 2.7 never sets RF in the EFLAGS image of a #DB; the SDM (vol. 3, 17.3.1.1) sets it for the general-detect #DB, a fault like all faults but the instruction breakpoint, "
        + "and for a data breakpoint's trap between iterations of a REP string instruction, as sim does (the debug guest's #DB handler leaves the saved RF in EDX bit 16)";

    private const string StaleDisabledBreakpoints =
        "Bochs 2.7 keeps the B0–B3 bits of disabled breakpoints that earlier instructions matched (of earlier cases too, across writes of DR0–DR3 and DR7) and adds them to the DR6 of the next #DB; "
        + "the SDM (vol. 3, 17.2.3) has B0–B3 tell the conditions met when the debug exception was generated, and allows bits of disabled breakpoints then; sim sets those of the instruction's own matches "
        + "(the debug guest's log, which keeps the bits of enabled breakpoints only, agrees; EBP holds all of DR6)";

    /// <summary>The debug guest's DR6 (EBP) has, on the oracle, only further B0–B3 bits.</summary>
    private static bool OnlyMoreBreakpointBits(Divergence d) => (d.Sim & ~d.Reference) == 0 && ((d.Reference & ~d.Sim) & ~0xFUL) == 0;

    private const string MovDebugFaultOrder =
        "Bochs 2.7 checks MOV DR at CPL 3 for #UD (DR4/DR5 with CR4.DE) and then for general detect (#DB with BD, GD cleared) before the privilege check (#GP(0)); "
        + "the SDM (vol. 2, MOV—Move to/from Debug Registers, Protected Mode Exceptions) lists the three without an order; sim, like KVM's instruction emulator, "
        + "checks the privilege of the instruction first, so at CPL 3 it raises #GP(0) alone";

    /// <summary>The debug guest's EDX differs only in the saved RF (bit 16), and sim's is the set one.</summary>
    private static bool OnlyResumeFlag(Divergence d) => (d.Sim ^ d.Reference) == 0x10000 && (d.Sim & 0x10000) != 0;

    private static bool HasFrame16(TestCase c) => c.Steps.Any(s => s.Instruction.Code is Code.Enterw_imm16_imm8 or Code.Leavew);

    private static bool ZeroCountString32(TestCase c) =>
        (uint)c.Registers[1] == 0
        && c.Steps.Any(s => s.Instruction.Code != Code.INVALID && s.Instruction.IsStringInstruction
            && (s.Instruction.HasRepPrefix || s.Instruction.HasRepePrefix || s.Instruction.HasRepnePrefix)
            && Enumerable.Range(0, s.Instruction.OpCount).Any(i => s.Instruction.GetOpKind(i) is OpKind.MemorySegESI or OpKind.MemorySegEDI or OpKind.MemoryESEDI));
}
