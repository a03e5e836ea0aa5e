using System.Globalization;
using Iced.Intel;
using Sim.Images.Guests;

namespace Sim.Differential.Tests;

/// <summary>
/// Divergences where the reference emulator, not sim, leaves the SDM (or models a different CPU),
/// decided by the other oracle and the SDM. Matched like <see cref="KnownDivergences"/>, but they stay.
/// The SIMD cases, whose records differ in shape, have theirs in <see cref="SimdOracleDeviations"/>.
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

    private static bool ZeroCountString32(TestCase c) =>
        (uint)c.Registers[1] == 0
        && c.Steps.Any(s => s.Instruction.Code != Code.INVALID && s.Instruction.IsStringInstruction
            && (s.Instruction.HasRepPrefix || s.Instruction.HasRepePrefix || s.Instruction.HasRepnePrefix)
            && Enumerable.Range(0, s.Instruction.OpCount).Any(i => s.Instruction.GetOpKind(i) is OpKind.MemorySegESI or OpKind.MemorySegEDI or OpKind.MemoryESEDI));
}
