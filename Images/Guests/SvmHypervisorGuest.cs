using System.Globalization;
using System.Text;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Images.Guests.GuestInstructions;

namespace Sim.Images.Guests;

/// <summary>
/// A small hypervisor in 64-bit guest code (AMD APM vol. 2, chapter 15): it checks CPUID for SVM
/// and nested paging and VM_CR.SVMDIS, sets EFER.SVME and VM_HSAVE_PA, builds a VMCB (intercepts CPUID, HLT, IOIO
/// through an I/O permission map with port 80h only, shutdown and VMRUN; ASID 1) and runs two
/// guests: one in real mode, then one in 64-bit mode under an identity nested map that leaves two
/// pages out, one holding a guest page directory and one holding data. It emulates CPUID, reports
/// OUT to port 80h, maps a missing page on its nested page fault (guest-physical g to host-physical
/// g + 1 MiB) and prints every exit's code and EXITINFO. Without SVM it prints "no SVM" and fails
/// through port 0xF4.
/// </summary>
public sealed partial class SvmHypervisorGuest : BuiltInGuest
{
    public const ulong RealGuestCode = 0x8000;
    public const ulong LongGuestCode = 0x320000;

    /// <summary>Guest-physical pages the nested map leaves out: a data page and a page directory of the guest's.</summary>
    public const ulong UnmappedPage = 0x480000, UnmappedTablePage = 0x4C0000;

    /// <summary>On an NPF the hypervisor maps guest-physical g to host-physical g + BackingOffset.</summary>
    public const ulong BackingOffset = 0x100000;

    /// <summary>The guest-physical 2-MiB page that the page directory at <see cref="UnmappedTablePage"/> maps at linear 4000_0000h.</summary>
    public const ulong LargePage = 0x400000;

    /// <summary>The linear address the 64-bit guest reads: through its PDPTE 1 and the page directory at <see cref="UnmappedTablePage"/> to <see cref="UnmappedPage"/> + 10h.</summary>
    public const ulong LongGuestData = 0x40080010;

    /// <summary>What the backing page of <see cref="UnmappedPage"/> holds at the guest's address, and what the identity-mapped page holds instead.</summary>
    public const byte BackingByte = 0x5A, IdentityByte = 0xA5;

    public const uint HypervisorLeaf = 0x40000000;

    /// <summary>What the hypervisor's CPUID leaf 40000000H returns in EBX, ECX and EDX.</summary>
    public const string Signature = "SimSvmHvisor";

    /// <summary>The byte the real-mode guest writes itself to COM1 and port 0xE9, which the IOPM lets through.</summary>
    public const char RealGuestMark = 'R';

    public const byte FailureStatus = 1;

    /// <summary>The output on a processor without SVM (CPUID Fn8000_0001 ECX[2] clear).</summary>
    public const string NoSvmOutput = "no SVM\n";

    public const int ExitCpuid = 0x72, ExitHlt = 0x78, ExitIoio = 0x7B, ExitNpf = 0x400;

    // EXITINFO1 of IOIO (APM vol. 2, 15.10.2, figure 15-2): port in bits 31:16, SZ8 (4), A16 (7), A64 (9).
    private const ulong IoioSize8 = 1 << 4, IoioAddress16 = 1 << 7, IoioAddress64 = 1 << 9;

    // EXITINFO1 of a nested page fault (15.25.6): #PF error-code bits, and bit 32 (final guest-physical
    // address) or bit 33 (a guest page table).
    private const ulong NpfWrite = 1 << 1, NpfUser = 1 << 2, NpfFinalAddress = 1UL << 32, NpfPageTable = 1UL << 33;

    public override string Name => "svm";

    public override GuestMode Mode => GuestMode.Long64;

    /// <summary>
    /// Guest 1 (real mode, no nested paging): CPUID exits, resumed at the next instruction (15.7.1); OUT
    /// 80h is intercepted through the IOPM with EXITINFO2 = the next RIP (15.10.2); OUT to COM1 and
    /// E9h, clear in the IOPM, reach the ports; HLT exits with RIP at the HLT (15.9). Guest 2 (64-bit,
    /// nested paging): CPUID, then its read walks its page directory at the left-out page: an NPF on a
    /// guest page-table access, which the nested walk treats as a user write (15.25.5), P clear,
    /// EXITINFO2 = the PDE's guest-physical address; once mapped, the read itself reaches the left-out
    /// data page: a final-address NPF, user, read; both with RIP at the read (15.25.6). The retried
    /// read sees the backing page's byte, which OUT reports with a 64-bit address size.
    /// </summary>
    public override string ExpectedOutput()
    {
        var signature = Encoding.ASCII.GetBytes(Signature);
        var real = GuestCode.Assemble(RealGuestAssembler(), RealGuestCode);
        var longMode = GuestCode.Assemble(LongGuestAssembler(), LongGuestCode);
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');
        string Hex(ulong value) => value.ToString("x", CultureInfo.InvariantCulture);
        var port80 = 0x80UL << 16 | IoioSize8;

        Line("SVM");
        Line("NP");
        Line("guest 1: real mode");
        Line($"exit {Hex(ExitCpuid)} cpuid {Hex(HypervisorLeaf)} next {Hex(After(16, RealGuestCode, real, Mnemonic.Cpuid))}");
        Line($"exit {Hex(ExitIoio)} ioio {Hex(port80 | IoioAddress16)} value {Hex(signature[0])} next {Hex(After(16, RealGuestCode, real, Mnemonic.Out))}");
        Line(RealGuestMark.ToString());
        Line($"exit {Hex(ExitHlt)} hlt rip {Hex(At(16, RealGuestCode, real, Mnemonic.Hlt))}");
        Line("guest 2: long mode, nested paging");
        Line($"exit {Hex(ExitCpuid)} cpuid {Hex(HypervisorLeaf)} next {Hex(After(64, LongGuestCode, longMode, Mnemonic.Cpuid))}");
        var read = At(64, LongGuestCode, longMode, Mnemonic.Mov, memoryOperand: true);
        var pde = UnmappedTablePage + ((LongGuestData >> 21 & 0x1FF) * 8);
        Line($"exit {Hex(ExitNpf)} npf {Hex(NpfPageTable | NpfUser | NpfWrite)} {Hex(pde)} rip {Hex(read)}");
        Line($"exit {Hex(ExitNpf)} npf {Hex(NpfFinalAddress | NpfUser)} {Hex(LargePage + (LongGuestData & 0x1FFFFF))} rip {Hex(read)}");
        Line($"exit {Hex(ExitIoio)} ioio {Hex(port80 | IoioAddress64)} value {Hex(BackingByte)} next {Hex(After(64, LongGuestCode, longMode, Mnemonic.Out))}");
        Line($"exit {Hex(ExitHlt)} hlt rip {Hex(At(64, LongGuestCode, longMode, Mnemonic.Hlt))}");
        Line("done");
        return text.ToString();
    }

    /// <summary>The real-mode guest: CPUID, OUT 80h of BL, a mark to COM1 and port 0xE9 (not intercepted), HLT.</summary>
    public static byte[] RealGuest() => GuestCode.Assemble(RealGuestAssembler(), RealGuestCode);

    /// <summary>The 64-bit guest: CPUID, a read through the left-out page directory of the left-out page, OUT 80h of what it read, HLT.</summary>
    public static byte[] LongGuest() => GuestCode.Assemble(LongGuestAssembler(), LongGuestCode);

    private static Assembler RealGuestAssembler()
    {
        var a = new Assembler(16);
        a.mov(eax, HypervisorLeaf);
        a.cpuid();
        a.mov(al, bl);
        a.@out(0x80, al);
        a.mov(dx, GuestCode.Com1);
        foreach (var c in RealGuestMark + "\n")
        {
            a.mov(al, (byte)c);
            a.@out(dx, al);
            a.@out((byte)GuestCode.DebugConsolePort, al);
        }
        a.hlt();
        return a;
    }

    private static Assembler LongGuestAssembler()
    {
        var a = new Assembler(64);
        a.mov(eax, HypervisorLeaf);
        a.cpuid();
        a.mov(rsi, LongGuestData);
        a.mov(al, __byte_ptr[rsi]);
        a.@out(0x80, al);
        a.hlt();
        return a;
    }

    private protected override void EmitProgram(GuestCode code) => new HostProgram(code).Emit();
}
