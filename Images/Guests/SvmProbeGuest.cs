namespace Sim.Images.Guests;

/// <summary>
/// An AMD-V probe in 64-bit guest code: it starts SVM as <see cref="SvmHypervisorGuest"/> does, prints the CPUID leaves the
/// consistency checks depend on ("cap LEAF VALUE"), and for each case of its table copies a valid baseline VMCB over its VMCB,
/// applies the case's writes (VMCB offset, size in bytes, value) and executes VMRUN; it prints one line per case, "INDEX exit
/// EXITCODE i1 EXITINFO1 i2 EXITINFO2" (APM vol. 2, 15.6; VMEXIT_INVALID is ffffffffffffffff, 15.5.1), and ends with "done".
/// The baseline runs a 64-bit guest on the host's page tables at a page of HLT instructions, intercepting HLT, every
/// exception, shutdown and VMRUN, so that every guest ends in a #VMEXIT.
/// </summary>
public sealed partial class SvmProbeGuest(IReadOnlyList<IReadOnlyList<SvmProbeGuest.Write>> cases) : BuiltInGuest
{
    /// <summary>One write of a case: <see cref="Size"/> bytes (1, 2, 4 or 8) of <see cref="Value"/> at VMCB offset <see cref="Offset"/> (APM vol. 2, appendix B).</summary>
    public readonly record struct Write(uint Offset, int Size, ulong Value);

    public const ulong GuestCodePage = 0x520000, GuestRip = GuestCodePage + 0x800, GuestStack = 0x528000;

    public const ulong HostSaveArea = 0x500000, Vmcb = 0x501000, BaselineVmcb = 0x502000, Iopm = 0x504000, Msrpm = 0x508000;

    /// <summary>The baseline's nCR3, used only where a case enables nested paging: a zeroed page, so that the first walk finds nothing present.</summary>
    public const ulong NestedPml4 = 0x50C000;

    /// <summary>The guest's segments come from the payload's GDT: 64-bit code 18H, data 10H.</summary>
    public const ushort GuestCodeSelector = GuestLayout.Code64Selector, GuestDataSelector = GuestLayout.DataSelector;

    public const byte FailureStatus = 1;

    /// <summary>The CPUID leaves printed before the cases ("cap LEAF VALUE"): ECX:EDX of 1 and 80000001H, ECX:EBX of 7, EAX of 80000008H, EDX of 8000000AH.</summary>
    public static readonly uint[] CapabilityLeaves = [1, 7, 0x80000001, 0x80000008, 0x8000000A];

    public IReadOnlyList<IReadOnlyList<Write>> Cases { get; } = cases;

    public override string Name => "svm-probe";

    public override GuestMode Mode => GuestMode.Long64;

    /// <summary>The probe's per-case lines are what the processor decides: compare two processors' outputs instead.</summary>
    public override string ExpectedOutput() =>
        throw new NotSupportedException("the SVM probe prints what the processor's VMRUNs report: compare two processors' outputs instead");

    private protected override void EmitProgram(GuestCode code) => new HostProgram(code, Cases).Emit();
}
