using System.Globalization;
using Iced.Intel;
using Sim.Images.Guests;
using Sim.Vmx;

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
        new(null, Mnemonic.Blsi, null, QemuBlsiCarry, Oracle.Qemu),
        new(null, null, null, QemuAddCarryFlag32, Oracle.Qemu, HasAddCarryFlag32),
        new(GuestMode.Protected16, null, null, QemuVexIn16BitCode, Oracle.Qemu, HasVexStep),
        new(null, Mnemonic.Adox, null, BochsAdoxSignedOverflow, Oracle.Bochs),
        new(GuestMode.Real16, null, null, BochsVexInRealMode, Oracle.Bochs, HasVexStep),
        new(GuestMode.Long64, null, "rsi", ZeroCountString, Oracle.Bochs, ZeroCountString32),
        new(GuestMode.Long64, null, "rdi", ZeroCountString, Oracle.Bochs, ZeroCountString32),
        new(GuestMode.Long64, null, null, Frame16In64BitMode, Oracle.Bochs, HasFrame16),
        new(GuestMode.Protected32, null, "edx", DebugFaultResumeFlag, Oracle.Bochs, c => c.Kind.StartsWith("debug", StringComparison.Ordinal), OnlyResumeFlag),
        new(GuestMode.Protected32, null, "ebp", StaleDisabledBreakpoints, Oracle.Bochs, c => c.Kind.StartsWith("debug", StringComparison.Ordinal), OnlyMoreBreakpointBits),
        new(GuestMode.Protected32, Mnemonic.Mov, "vector", MovDebugFaultOrder, Oracle.Bochs, c => c.Kind.StartsWith("user mov dr4", StringComparison.Ordinal)),
        new(GuestMode.Protected32, Mnemonic.Mov, null, MovDebugFaultOrder, Oracle.Bochs, c => c.Kind.StartsWith("user mov dr gd", StringComparison.Ordinal)),
    ];

    /// <summary>Lines of the C guests' output (<see cref="CGuestTests"/>) that an oracle prints differently from sim, by guest and line label.</summary>
    public static readonly (string Guest, string Line, Oracle Oracle, string Reason)[] CGuestLines =
    [
        ("x87", "FYL2X(3, 0.7)", Oracle.Bochs, BochsFyl2xPrecision),
        ("x87", "sum (1+1/n)^n", Oracle.Bochs, BochsFyl2xPrecision),
        ("x87", "FSIN(1)", Oracle.Qemu, QemuTrigonometryInDouble),
        ("x87", "FCOS(1)", Oracle.Qemu, QemuTrigonometryInDouble),
        ("x87", "FPTAN(0.5)", Oracle.Qemu, QemuTrigonometryInDouble),
        ("x87", "FSIN(0.001)", Oracle.Qemu, QemuTrigonometryInDouble),
    ];

    private const string QemuTrigonometryInDouble =
        "QEMU 7.2 TCG: FSIN, FCOS and FPTAN are computed in the host's double precision, so the low 11 bits of the 64-bit significand are 0 "
        + "(FSIN(1) = 3FFE:D76AA47848677000 where sin 1 = 3FFE:D76AA47848677020.78 in units of its last place); the SDM (vol. 1, 8.3.10) bounds "
        + "the error by 1 ulp. sim and Bochs print the nearest extended values";

    private const string BochsFyl2xPrecision =
        "Bochs 2.7: FYL2X(3, 0.7L) is BFFF:C59899E70DDCF4CB, 0x1BA1 units in the last place from 3 log2(0.7L) = -1.54371951848927472135208632666835857780 "
        + "(60-digit decimal arithmetic), whose nearest extended value BFFF:C59899E70DDCD92A sim and QEMU print; the SDM (vol. 1, 8.3.10) bounds the "
        + "transcendental instructions' error by 1 ulp. The sum of exp(n log(1 + 1/n)), built on FYL2X, ends one unit in the last place apart";

    /// <summary>Probe cases (<see cref="VmcsOracleTests"/>) whose line Bochs gets wrong.</summary>
    public static readonly ProbeDeviation[] Probes =
    [
        new("vmx", VmxCapabilities, VmxCapabilityDifference.Explains),
        new("svm", SvmCapabilities, SvmCapabilityDifference.Explains),
        new("svm", PermissionMapExtent, o => o.Case.Any(w => w is { Target: 0x040 or 0x048, Size: 8 } && (w.Value & ~0xFFFUL) < 1UL << 40
            && (w.Value & ~0xFFFUL) + (w.Target == 0x040 ? 0x3000UL : 0x2000UL) > 1UL << 40) && o.Sim == "exit ffffffffffffffff"),
        new("svm", NestedPagingEnableBit, o => o.Value(0x090) is { } np && (np & 1) == 0 && np != 0 && o.Sim != o.Bochs),
        new("svm", LongAndDefaultBigSystemCs, o => o.Value(0x412) is { } cs && (cs & 0x600) == 0x600 && (cs & 0x10) == 0
            && o.Sim == "exit ffffffffffffffff" && o.Bochs != o.Sim),
        new("svm", BochsUncheckedGuestCr3, o => (o.Value(0x550) >> 40) is > 0 && o.Sim == "exit ffffffffffffffff" && o.Bochs != o.Sim),
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

    private const string NestedPagingEnableBit =
        "Bochs 2.7 (phenom_8650_toliman): any nonzero NP_ENABLE quadword (VMCB offset 090h) turns nested paging on; the APM (vol. 2, table B-1) gives bit 0 that meaning "
        + "and other bits to other features (SEV, SEV-ES, ...), so with bit 0 clear the guest runs without nested paging and G_PAT is not checked, as in sim";

    private const string LongAndDefaultBigSystemCs =
        "Bochs 2.7 (phenom_8650_toliman): VMRUN does not fail on CS.L and CS.D both set (with EFER.LME, CR0.PG and CR4.PAE) when the CS attributes describe a system segment (S = 0); "
        + "the APM (vol. 2, 15.5.1) makes that combination VMEXIT_INVALID whatever the segment type, as sim does";

    private const string PermissionMapExtent =
        "Bochs 2.7 (phenom_8650_toliman): VMRUN checks only the IOPM and MSRPM base addresses against the 40-bit physical-address width, not the end of the 12-KiB or 8-KiB table; "
        + "the APM (vol. 2, 15.5.1: \"the MSR or IOIO intercept tables extend to a physical address that is greater than or equal to the maximum supported physical address\") "
        + "makes a table that crosses it VMEXIT_INVALID, as sim does";

    /// <summary>Also why the generated VMCBs leave CR3 bits 51:41 alone: with them Bochs walks beyond its memory and the run ends.</summary>
    public const string BochsUncheckedGuestCr3 =
        "Bochs 2.7 (phenom_8650_toliman): VMRUN does not check the guest CR3 for MBZ bits (bits 63:52, and the bits beyond the 40-bit physical-address width) in long mode "
        + "and enters the guest, whose first fetch walks from that address; the APM (vol. 2, 15.5.1, \"CR3 ... any MBZ bit set\"; 3.1.2) makes it VMEXIT_INVALID, as sim does";

    /// <summary>Why the generated VMCBs never set CR0.PG without CR0.PE.</summary>
    public const string BochsPagingWithoutProtection =
        "Bochs 2.7 (phenom_8650_toliman): VMRUN with EFER.LME and CR0.PG set and CR0.PE clear ends the emulator (\"change_cpu_mode: EFER.LMA is set when CR0.PE=0 !\"); "
        + "the APM (vol. 2, 15.5.1: \"EFER.LME and CR0.PG are both non-zero and CR0.PE is zero\") makes it VMEXIT_INVALID, as sim does";

    /// <summary>Why the generated VMCBs keep #DF intercepted.</summary>
    public const string BochsShutdownIntercept =
        "Bochs 2.7 (phenom_8650_toliman): a guest that triple-faults with the shutdown intercept set (intercept vector 4, bit 31) shuts the emulator down; "
        + "the APM (vol. 2, 15.12: the shutdown intercept) has it end in #VMEXIT(SHUTDOWN, 7Fh), as sim does";

    /// <summary>Why the generated VMCBs keep RFLAGS.TF clear.</summary>
    public const string BochsGuestSingleStepLeaks =
        "Bochs 2.7 (phenom_8650_toliman): a guest entered with RFLAGS.TF set whose first instruction (HLT) is intercepted leaves a single-step #DB pending across the #VMEXIT, "
        + "which the host then takes (here a triple fault that ends the run); the APM (vol. 2, 15.9: the HLT intercept is checked before the instruction executes, 15.6: "
        + "the host's RFLAGS comes from the host save area) leaves no trap pending, as in sim";

    /// <summary>Why the generated VMCSs inject no event of type 7.</summary>
    public const string BochsPanicsOnInjectionType7 =
        "Bochs 2.7: VM entry with a valid VM-entry interruption-information field of type 7 (other event) on a model without the monitor trap flag ends the emulator "
        + "(\"VMENTER: unsupported event injection type 7 !\"); the SDM (vol. 3, 26.2.1.3) makes type 7 a reserved type there, so the entry fails with VMfailValid(7), as in sim";

    private const string GuestRipAboveLinearWidth =
        "Bochs 2.7: VM entry to a 64-bit guest (IA-32e mode guest, CS.L = 1) does not check that bits 63:48 of the guest RIP are identical; "
        + "the SDM (vol. 3, 26.3.1.4) requires it (\"bits 63:N must be identical\", N = 48 linear-address bits) and fails the entry with reason 33, as sim does; Bochs goes on to the MSR-load list and enters, and the fetch faults";

    private const string SvmCapabilities =
        "CPU model: Bochs' phenom_8650_toliman and sim report different CPUID features (CR4 and EFER bits) and physical-address widths, so a VMCB value that one model "
        + "accepts and the other rejects is checked differently by design (APM vol. 2, 15.5.1: MBZ bits of CR4 and EFER, addresses beyond the maximum physical address)";

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

    private const string QemuBlsiCarry =
        "QEMU 7.2: BLSI sets CF when the source is zero, as BLSMSK and BLSR do (its CC_OP_BMILG computes CF as \"source = 0\" for all three); the SDM (vol. 2A, BLSI, Flags Affected: "
        + "\"The CF flag is set if the source is not zero\") has the opposite, as sim and Bochs do; the case's later readers of CF (CMOVcc, SETcc, Jcc, ADC ...) differ with it";

    private const string QemuAddCarryFlag32 =
        "QEMU 7.2: ADCX and ADOX with a 32-bit operand size do not truncate their inputs to 32 bits, so the carry out lands in the wrong place and the EFLAGS they leave "
        + "have bits far above bit 11 and wrong CF/OF (fixed in QEMU 8.0, \"target/i386: Fix 32-bit AD[CO]X insns in 64-bit mode\"); the SDM (vol. 2A, ADCX/ADOX: "
        + "CF/OF := the carry out of the unsigned operand-size addition, the other flags unmodified) is what sim and Bochs do";

    private const string QemuVexIn16BitCode =
        "QEMU 7.2: in a 16-bit code segment of protected mode C4h/C5h are always LES/LDS (its decoder takes VEX only with a 32-bit code segment), so the BMI1/BMI2 instructions raise #UD; "
        + "the SDM (vol. 2A, 2.5.1, table 2-29, and each instruction: \"not supported in real mode and virtual-8086 mode\") makes them #UD only there "
        + "(outside 64-bit mode C4h/C5h are VEX when the next byte's bits 7:6 are 11b), as sim and Bochs do";

    private const string BochsVexInRealMode =
        "Bochs 2.7: in real-address mode it executes the VEX-encoded BMI1/BMI2 instructions; the SDM (vol. 2A, 2.5.1, table 2-29: #UD \"if in real-address mode\"; "
        + "each instruction: \"not supported in real mode and virtual-8086 mode\") makes them #UD, as sim and QEMU do";

    private const string BochsAdoxSignedOverflow =
        "Bochs 2.7: ADOX sets OF from the signed overflow of the addition; the SDM (vol. 2A, ADOX: OF := the carry out of the unsigned addition DEST + SRC + OF) "
        + "and the host processor (BitManipulationHostOracleTests) agree with sim, and QEMU does for 64-bit operands";

    /// <summary>A step is VEX-encoded (BMI1/BMI2).</summary>
    private static bool HasVexStep(TestCase c) => c.Steps.Any(s => s.Instruction.Encoding == EncodingKind.VEX);

    /// <summary>A step is ADCX or ADOX with a 32-bit destination.</summary>
    private static bool HasAddCarryFlag32(TestCase c) => c.Steps.Any(s => s.Instruction.Mnemonic is Mnemonic.Adcx or Mnemonic.Adox && s.Instruction.Op0Register.GetSize() == 4);

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
