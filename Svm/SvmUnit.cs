using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Timing;
using Sim.Cpu.Virtualization;
using Sim.Svm.Npt;

namespace Sim.Svm;

/// <summary>
/// The AMD-V (SVM) unit of one processor (AMD APM vol. 2, chapter 15): VMRUN, VMLOAD, VMSAVE,
/// STGI, CLGI, INVLPGA, VMMCALL and SKINIT, the VMCB in simulated memory, intercepts and #VMEXIT,
/// event injection, virtual interrupts, nested paging and ASIDs. Guest code reaches it through
/// the instructions; a kernel model calls the same operations through <see cref="Vmrun"/> and its siblings.
/// </summary>
public sealed partial class SvmUnit : IVirtualizationHooks
{
    /// <summary>CPUID 8000_000Ah EAX: SVM revision.</summary>
    public const uint SvmRevision = 1;

    /// <summary>CPUID 8000_000Ah EBX: number of ASIDs (ASID 0 is the host's).</summary>
    public const uint NumberOfAsids = 0x8000;

    /// <summary>
    /// CPUID 8000_000Ah EDX: nested paging (0), NRIP save (3), VMCB clean bits (5), flush by ASID
    /// (6), decode assists (7), pause filter (10), pause-filter threshold (12). LBR virtualization,
    /// SVM lock, TSC rate MSR, AVIC and VGIF are not offered.
    /// </summary>
    public const uint FeatureEdx = (1u << 0) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 10) | (1u << 12);

    /// <summary>CPUID 8000_0001h ECX bit 2: SVM. SKINIT (bit 12) is not offered.</summary>
    public const uint SvmFeatureBit = 1u << 2;

    private readonly Processor _cpu;
    private readonly PhysicalMemory _memory;
    private readonly TranslationTagTable _tags;
    private readonly VmcbStateCache _vmcbState = new();
    private NestedPageTranslator? _npt;
    private ulong _vmCr;
    private ulong _hsavePa;

    public SvmUnit(Processor cpu)
    {
        _cpu = cpu;
        _memory = cpu.Memory;
        _tags = new TranslationTagTable(cpu);
        cpu.Hooks = this;
        cpu.SvmSupported = true;
        cpu.ExtraExtendedFeatureEcx |= SvmFeatureBit;
        cpu.CpuidExtension = Cpuid;
        cpu.Vendor = CpuVendor.Amd;
    }

    public Processor Processor => _cpu;

    /// <summary>Modeled cycles charged for VMRUN, #VMEXIT, VMLOAD and VMSAVE.</summary>
    public CostModel Costs { get; set; } = CostModel.Default;

    /// <summary>Whether a guest is running (between VMRUN and #VMEXIT).</summary>
    public bool InGuest
    {
        get => _inGuest;
        private set
        {
            _inGuest = value;
            // XRSTOR_INFO has no element that tells guest from host (as VMX's non-root bit does): a world switch ends its match.
            _cpu.ResetXrstorInfo();
        }
    }

    private bool _inGuest;

    /// <summary>The physical address of the VMCB of the running (or last) guest.</summary>
    public ulong VmcbAddress { get; private set; }

    /// <summary>#VMEXITs since this unit was created, VMEXIT_INVALID included.</summary>
    public ulong ExitCount { get; private set; }

    /// <summary>The EXITCODE of the last #VMEXIT.</summary>
    public ulong LastExitCode { get; private set; }

    /// <summary>The check the last VMRUN that ended in VMEXIT_INVALID failed on.</summary>
    public VmcbConsistencyCheck LastConsistencyFailure { get; private set; }

    public ulong VmCr => _vmCr;

    public ulong HostSaveArea => _hsavePa;

    /// <summary>The nested-page translator once a guest ran with NP_ENABLE.</summary>
    public NestedPageTranslator? NestedPaging => _npt;

    private static ulong MaxPhysicalAddress => 1UL << Processor.MaxPhysicalAddressBits;

    private static uint Chars(string s) => (uint)(s[0] | (s[1] << 8) | (s[2] << 16) | (s[3] << 24));

    private static readonly uint AmdEbx = Chars("Auth"), AmdEdx = Chars("enti"), AmdEcx = Chars("cAMD");

    /// <summary>
    /// Extends the processor's CPUID: the maximum extended leaf becomes 8000_000Ah (with the AMD
    /// vendor string), 8000_0009h is reserved (zeros) and 8000_000Ah describes SVM (APM vol. 3, appendix E.4.9).
    /// </summary>
    private (uint Eax, uint Ebx, uint Ecx, uint Edx)? Cpuid(uint leaf, uint subleaf) => leaf switch
    {
        0x80000000 => (0x8000000A, AmdEbx, AmdEcx, AmdEdx),
        0x80000009 => (0, 0, 0, 0),
        0x8000000A => (SvmRevision, NumberOfAsids, 0, FeatureEdx),
        _ => null,
    };

    public bool TryReadMsr(Processor cpu, uint index, out ulong value)
    {
        switch (index)
        {
            case SvmMsr.VmCr: value = _vmCr; return true;
            case SvmMsr.VmHsavePa: value = _hsavePa; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>VM_CR and VM_HSAVE_PA with the checks of APM vol. 2, 15.30.1 and 15.30.4.</summary>
    public bool TryWriteMsr(Processor cpu, uint index, ulong value)
    {
        switch (index)
        {
            case SvmMsr.VmCr:
            {
                const ulong defined = SvmMsr.VmCrDpd | SvmMsr.VmCrRInit | SvmMsr.VmCrDisA20M | SvmMsr.VmCrLock | SvmMsr.VmCrSvmDis;
                if ((value & ~defined) != 0) return false;
                // While LOCK is set, writes to LOCK and SVMDIS are ignored (only SVM_KEY, not offered, would clear it).
                if ((_vmCr & SvmMsr.VmCrLock) != 0) value = (value & ~(SvmMsr.VmCrLock | SvmMsr.VmCrSvmDis)) | (_vmCr & (SvmMsr.VmCrLock | SvmMsr.VmCrSvmDis));
                // SVMDIS can be set only while EFER.SVME is clear.
                if ((value & SvmMsr.VmCrSvmDis) != 0 && (_vmCr & SvmMsr.VmCrSvmDis) == 0 && (cpu.Efer & Cpu.Registers.Efer.SVME) != 0) return false;
                _vmCr = value;
                cpu.SvmSupported = (value & SvmMsr.VmCrSvmDis) == 0;
                return true;
            }
            case SvmMsr.VmHsavePa:
                if ((value & 0xFFF) != 0 || value >= MaxPhysicalAddress) return false;
                _hsavePa = value;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The intercept being handled (its instruction, the event in delivery), kept for the #VMEXIT it may cause; default outside one.</summary>
    private Intercept _intercept;

    public bool Intercept(Processor cpu, ref Intercept intercept)
    {
        // A VMRUN emulated inside an intercept can raise another one (an injected event's fault): keep the outer.
        var outer = _intercept;
        _intercept = intercept;
        var handled = intercept.Kind == InterceptKind.VirtualizationInstruction ? ExecuteInstruction(intercept.VirtualizationInstruction)
            : InGuest && GuestIntercept(in intercept);
        _intercept = outer;
        return handled;
    }
}
