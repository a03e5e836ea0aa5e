namespace Sim.Images.Guests;

/// <summary>
/// A VT-x probe in 64-bit guest code: it starts VMX as <see cref="VmxHypervisorGuest"/> does, prints
/// CPUID.80000008H:EAX and the capability MSRs (lines "cap 80000008 EAX", "cap MSR VALUE"), and for each case of its table re-initializes one VMCS
/// to a valid baseline, applies the case's VMWRITEs and executes VMLAUNCH; it prints one line per case,
/// "INDEX " followed by "invalid" (VMfailInvalid), "valid N" (VMfailValid with VM-instruction error N),
/// "vmwrite I fail ..." (the case's I-th VMWRITE failed) or "exit REASON q QUALIFICATION" (a VM exit or
/// a VM-entry failure, bit 31 of the reason set; SDM vol. 3, 26.8), with " info INTERRUPTION-INFORMATION"
/// for an exception or NMI. It ends with "done".
/// The baseline enters a 64-bit guest on the host's own page tables at a page of HLT instructions, with HLT
/// exiting, all exceptions exiting, and the VMX-preemption timer armed so that a guest that neither halts nor
/// faults still exits (reason 52).
/// </summary>
public sealed partial class VmxProbeGuest(IReadOnlyList<IReadOnlyList<VmxProbeGuest.Write>> cases) : BuiltInGuest
{
    /// <summary>One VMWRITE of a case: the field encoding (SDM vol. 3, appendix B) and the value.</summary>
    public readonly record struct Write(uint Field, ulong Value);

    /// <summary>Where the guest's page of HLT instructions lies and where its RIP points: bit flips of bits 0-10 stay on an HLT.</summary>
    public const ulong GuestCodePage = 0x520000, GuestRip = GuestCodePage + 0x800, GuestStack = 0x528000;

    /// <summary>The baseline's VMCS, the VMXON region and the pages its MSR areas (zeroed but for the four MSR-load entries) and EPT PML4 (zeroed) are at.</summary>
    public const ulong VmxonRegion = 0x500000, Vmcs = 0x501000, MsrArea = 0x530000, EptPml4 = 0x540000;

    /// <summary>The host's GDT and TSS (<see cref="VmxSetup.SetUpHostDescriptors"/>): code 8, data 10H, TSS 18H.</summary>
    public const ulong HostGdt = 0x510000, HostTss = 0x511000;

    /// <summary>The baseline's EPTP (used only where a case enables EPT): WB, 4-level walk, an empty PML4.</summary>
    public const ulong Eptp = EptPml4 | 6 | (3 << 3);

    /// <summary>The VMX-preemption timer value of the baseline.</summary>
    public const ulong PreemptionTimerValue = 0x400;

    public const byte FailureStatus = 1;

    /// <summary>The MSRs the probe prints before the cases: IA32_VMX_BASIC through IA32_VMX_EPT_VPID_CAP, then the TRUE_*_CTLS MSRs where IA32_VMX_BASIC[55] reports them.</summary>
    public static readonly int[] CapabilityMsrs = [.. Enumerable.Range(0x480, 0xD)], TrueControlMsrs = [.. Enumerable.Range(0x48D, 4)];

    public IReadOnlyList<IReadOnlyList<Write>> Cases { get; } = cases;

    public override string Name => "vmx-probe";

    public override GuestMode Mode => GuestMode.Long64;

    /// <summary>The probe's per-case lines are what the processor decides; only the frame is fixed, so there is no expected output to compare with.</summary>
    public override string ExpectedOutput() =>
        throw new NotSupportedException("the VMX probe prints what the processor's VM entries report: compare two processors' outputs instead");

    private protected override void EmitProgram(GuestCode code) => new HostProgram(code, Cases).Emit();
}
