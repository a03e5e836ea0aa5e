using System.Globalization;
using System.Text;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Images.Guests.GuestInstructions;

namespace Sim.Images.Guests;

/// <summary>
/// A small hypervisor in 64-bit guest code that starts VMX the way a real one does (SDM vol. 3,
/// 24.6-24.8, 25.11.5): CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, the CR0/CR4 fixed bits, VMXON,
/// VMCLEAR/VMPTRLD, a VMCS filled by VMWRITE with controls adjusted from the capability MSRs, and
/// VMLAUNCH of two nested guests under EPT: a real-mode guest (unrestricted guest) and a 64-bit guest
/// with its own page tables and EPT accessed/dirty flags. Its exit handler serves CPUID, HLT, I/O and
/// EPT violations (mapping the missing page and resuming) and prints each exit's reason-specific
/// fields; it ends with VMXOFF. Without VMX it prints "no VMX" and fails through port 0xF4.
/// </summary>
public sealed partial class VmxHypervisorGuest : BuiltInGuest
{
    public const ulong RealGuestCode = 0x8000;
    public const ulong LongGuestCode = 0x120000;

    /// <summary>Guest-physical pages the EPT leaves out until the guests store to them.</summary>
    public const ulong RealGuestUnmapped = 0x9000, LongGuestUnmapped = 0x11A000;

    /// <summary>The 64-bit guest's page directory, also left out of the EPT: its first fetch faults on the walk.</summary>
    public const ulong LongGuestPageDirectory = 0x132000;

    public const uint HypervisorLeaf = 0x40000000;

    /// <summary>What the hypervisor's CPUID leaf 40000000H returns in EBX, ECX and EDX.</summary>
    public const string Signature = "SimVmxHvisor";

    public const byte FailureStatus = 1;

    /// <summary>The output on a processor without VMX (CPUID.1:ECX[5] clear).</summary>
    public const string NoVmxOutput = "no VMX\n";

    private const ulong ExitStack = 0x470000;
    private const ulong VmxonRegion = 0x500000, RealVmcs = 0x501000, LongVmcs = 0x502000;
    private const ulong HostGdt = 0x510000, HostTss = 0x511000;
    private const ulong EptPml4 = 0x600000, EptPdpt = 0x601000, EptPd = 0x602000, EptPt = 0x603000;
    private const ulong GuestPml4 = 0x130000, GuestPdpt = 0x131000, GuestPd = LongGuestPageDirectory;
    private const ulong LongGuestStack = 0x128000, RealGuestStack = 0x7000;

    /// <summary>EPTP: write-back, 4-level walk (SDM vol. 3, 25.6.11); the 64-bit guest's also enables accessed and dirty flags (bit 6).</summary>
    private const ulong Eptp = EptPml4 | 6 | (3 << 3), EptpAccessedDirty = Eptp | 1 << 6;

    /// <summary>EPT leaf: read, write, execute, memory type WB (SDM vol. 3, table 29-6).</summary>
    private const ulong EptPage = 7 | (6 << 3);

    // Exit qualification bits of an EPT violation (SDM vol. 3, table 28-7).
    private const ulong EptRead = 1 << 0, EptWrite = 1 << 1, EptLinearValid = 1 << 7, EptFinalTranslation = 1 << 8;

    /// <summary>
    /// Bits 11:9 of an EPT violation's qualification (user-mode, writable, execute-disable linear address)
    /// are defined only where IA32_VMX_EPT_VPID_CAP[22] reports advanced VM-exit information (table 28-7):
    /// the hypervisor leaves them out of what it prints, so that its output is the same on every processor.
    /// </summary>
    private const ulong AdvancedInformation = 7 << 9;

    // Exit qualification of I/O (SDM vol. 3, table 28-5): size - 1 in bits 2:0, IN in bit 3, immediate in bit 6, port in 31:16.
    private const ulong IoImmediate = 1 << 6;

    // Basic exit reasons (SDM vol. 3, appendix C).
    private const int ReasonCpuid = 10, ReasonHlt = 12, ReasonIo = 30, ReasonEptViolation = 48;

    // EPT entry accessed (8) and dirty (9) flags (SDM vol. 3, 29.3.5).
    private const ulong EptAccessed = 1 << 8, EptDirty = 1 << 9;

    public override string Name => "vmx";

    public override GuestMode Mode => GuestMode.Long64;

    /// <summary>
    /// Each line of an exit starts with its basic exit reason (appendix C). Each guest: CPUID exits
    /// (reason 10) with a 2-byte instruction; its store to the page the EPT lacks is an EPT violation
    /// (48) with the guest RIP at the store (27.3.3), a data write to a final translation of a valid linear address
    /// (table 28-7; bits 11:9 left out, see <see cref="AdvancedInformation"/>); the store is
    /// restarted, OUT imm8 to port E9H exits (30) with the byte of the CPUID signature, and HLT (12)
    /// with a 1-byte instruction. The 64-bit guest first faults on the walk to its own page directory
    /// (with EPT A/D flags on, a paging-structure access counts as a write, 29.3.3.2, and sets both bit 0
    /// and bit 1 of the qualification, table 28-7 note 1; bit 8 clear: not the final translation), and at the end its code
    /// page is accessed, its data page and page directory accessed and dirty (29.3.5).
    /// </summary>
    public override string ExpectedOutput()
    {
        var signature = Encoding.ASCII.GetBytes(Signature);
        var io = (0xE9UL << 16) | IoImmediate;
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');
        string Hex(ulong value) => value.ToString("x", CultureInfo.InvariantCulture);

        var real = RealGuest();
        var longMode = LongGuest();
        var realStore = At(16, RealGuestCode, real, Mnemonic.Mov, memoryOperand: true);
        var longStore = At(64, LongGuestCode, longMode, Mnemonic.Mov, memoryOperand: true);
        string Exit(int reason) => $"exit {Hex((ulong)reason)} ";

        Line("vmxon");
        Line("launch real");
        Line($"{Exit(ReasonCpuid)}cpuid eax {Hex(HypervisorLeaf)} len 2");
        Line($"{Exit(ReasonEptViolation)}ept gpa {Hex(RealGuestUnmapped)} gla {Hex(RealGuestUnmapped)} q {Hex(EptWrite | EptLinearValid | EptFinalTranslation)} rip {Hex(realStore)}");
        Line($"{Exit(ReasonIo)}io q {Hex(io)} data {Hex(signature[0])} len 2");
        Line($"{Exit(ReasonHlt)}hlt len 1");
        Line("launch long");
        Line($"{Exit(ReasonEptViolation)}ept gpa {Hex(LongGuestPageDirectory)} gla {Hex(LongGuestCode)} q {Hex(EptRead | EptWrite | EptLinearValid)} rip {Hex(LongGuestCode)}");
        Line($"{Exit(ReasonCpuid)}cpuid eax {Hex(HypervisorLeaf)} len 2");
        Line($"{Exit(ReasonEptViolation)}ept gpa {Hex(LongGuestUnmapped)} gla {Hex(LongGuestUnmapped)} q {Hex(EptWrite | EptLinearValid | EptFinalTranslation)} rip {Hex(longStore)}");
        Line($"{Exit(ReasonIo)}io q {Hex(io)} data {Hex(signature[4])} len 2");
        Line($"{Exit(ReasonHlt)}hlt len 1");
        Line($"ad {Hex(LongGuestCode)} {Hex(EptAccessed)} {Hex(LongGuestUnmapped)} {Hex(EptAccessed | EptDirty)} {Hex(LongGuestPageDirectory)} {Hex(EptAccessed | EptDirty)}");
        Line("vmxoff");
        return text.ToString();
    }

    /// <summary>The real-mode guest: CPUID of the hypervisor leaf, a store of EBX's low byte to an unmapped page, that byte out to port 0xE9, HLT.</summary>
    public static byte[] RealGuest()
    {
        var a = new Assembler(16);
        a.mov(eax, HypervisorLeaf);
        a.cpuid();
        a.mov(__byte_ptr[(uint)RealGuestUnmapped], bl);
        a.mov(al, __byte_ptr[(uint)RealGuestUnmapped]);
        a.@out(0xE9, al);
        a.hlt();
        return GuestCode.Assemble(a, RealGuestCode);
    }

    /// <summary>The 64-bit guest: the same with ECX's low byte and another unmapped page.</summary>
    public static byte[] LongGuest()
    {
        var a = new Assembler(64);
        a.mov(eax, HypervisorLeaf);
        a.cpuid();
        a.mov(__byte_ptr[LongGuestUnmapped], cl);
        a.mov(al, __byte_ptr[LongGuestUnmapped]);
        a.@out(0xE9, al);
        a.hlt();
        return GuestCode.Assemble(a, LongGuestCode);
    }

    private protected override void EmitProgram(GuestCode code) => new HostProgram(code).Emit();
}
