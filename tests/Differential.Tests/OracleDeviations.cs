using System.Globalization;
using Iced.Intel;
using Sim.Images.Guests;
using Sim.Vmx;

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
    ];

    /// <summary>Probe cases (<see cref="VmcsOracleTests"/>) whose line Bochs gets wrong.</summary>
    public static readonly ProbeDeviation[] Probes =
    [
        new("vmx", VmxCapabilities, VmxCapabilityDifference.Explains),
        new("vmx", GuestRipAboveLinearWidth, o => o.Value((uint)VmcsField.GuestRip) is { } rip && (rip >> 48) is not (0 or 0xFFFF)
            && o.Sim == "exit 80000021 q 0" && ProbeOutcome.Of(o.Bochs) > ProbeOutcome.Stage.GuestState),
        new("vmx", NullSsBaseUnchecked, o => (o.Value((uint)VmcsField.GuestSsSelector) & 0xFFFC) == 0 && (o.Value((uint)VmcsField.GuestSsBase) >> 32) is > 0
            && o.Sim == "exit 80000021 q 0" && ProbeOutcome.Of(o.Bochs) > ProbeOutcome.Stage.GuestState),
        new("vmx", PendingDebugNotDelivered, o => (o.Value((uint)VmcsField.GuestPendingDebugExceptions) & 0x5000) is > 0
            && o.Sim.StartsWith("exit 0 ", StringComparison.Ordinal) && o.Sim.EndsWith(" info 80000301", StringComparison.Ordinal) && o.Bochs == "exit c q 0"),
    ];

    private const string PendingDebugNotDelivered =
        "Bochs 2.7: valid pending debug exceptions (the enabled-breakpoint bit 12 of the pending debug exceptions field) are not delivered before the guest's first instruction; "
        + "the SDM (vol. 3, 26.7.3: valid if bit 12 or BS is 1, then a #DB after VM entry unless blocked by MOV SS) has the #DB first, here a VM exit through the exception bitmap, as sim does";

    private const string NullSsBaseUnchecked =
        "Bochs 2.7: with a null SS selector (and SS usable, access-rights bit 16 clear) VM entry does not check that bits 63:32 of the SS base are 0; "
        + "the SDM (vol. 3, 26.3.1.2) ties the check to usability, which is the access-rights bit alone, and fails the entry with reason 33, as sim does (Bochs checks DS and ES alike)";

    /// <summary>Why the generated VMCSs inject no event of type 7.</summary>
    public const string BochsPanicsOnInjectionType7 =
        "Bochs 2.7: VM entry with a valid VM-entry interruption-information field of type 7 (other event) on a model without the monitor trap flag ends the emulator "
        + "(\"VMENTER: unsupported event injection type 7 !\"); the SDM (vol. 3, 26.2.1.3) makes type 7 a reserved type there, so the entry fails with VMfailValid(7), as in sim";

    private const string GuestRipAboveLinearWidth =
        "Bochs 2.7: VM entry to a 64-bit guest (IA-32e mode guest, CS.L = 1) does not check that bits 63:48 of the guest RIP are identical; "
        + "the SDM (vol. 3, 26.3.1.4) requires it (\"bits 63:N must be identical\", N = 48 linear-address bits) and fails the entry with reason 33, as sim does; Bochs goes on to the MSR-load list and enters, and the fetch faults";

    private const string VmxCapabilities =
        "CPU model: Bochs' corei7_skylake_x and sim report different VMX capabilities (IA32_VMX_*_CTLS allowed settings, IA32_VMX_CR4_FIXED1, IA32_VMX_MISC[30], "
        + "the physical-address width), so a value within one model's capabilities and outside the other's is checked differently by design (SDM vol. 3, 26.2.1, A.3-A.8)";

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
