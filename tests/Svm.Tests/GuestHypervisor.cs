using Iced.Intel;
using Sim.Images;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// A small hypervisor as 64-bit guest code for the bare machine (AMD APM vol. 2, chapter 15): it
/// checks CPUID for SVM and nested paging, sets EFER.SVME and VM_HSAVE_PA, builds a VMCB
/// (intercepts CPUID, HLT, IOIO through an I/O permission map with port 0x80 only, shutdown and VMRUN; ASID 1)
/// and runs two guests: one in real mode, then one in 64-bit mode under an identity nested map
/// that leaves two pages out, one holding a guest page directory and one holding data. It emulates
/// CPUID, reports OUT to port 0x80, maps a missing page on its nested page fault (guest-physical g
/// to host-physical g + 1 MiB), and prints every exit to port 0xE9; then it writes 0 to port 0xF4.
/// </summary>
internal static class GuestHypervisor
{
    public const ulong CodeAddress = 0x100000;
    public const ulong HostStack = 0x90000;
    public const ulong HostSaveArea = 0x200000;
    public const ulong Vmcb = 0x201000;
    public const ulong Iopm = 0x204000;
    public const ulong Msrpm = 0x208000;
    /// <summary>Guest RBX, RCX, RDX, RSI, RDI, RBP and R8-R15, which VMRUN and #VMEXIT leave in the registers (15.5, 15.6).</summary>
    public const ulong GuestRegisters = 0x20A000;
    public const ulong Phase = 0x20A100;
    public const ulong NestedPml4 = 0x300000, NestedPdpt = 0x301000, NestedPd = 0x302000, NestedPt = 0x303000;
    public const ulong GuestPml4 = 0x310000, GuestPdpt = 0x311000, GuestPd = 0x312000;
    public const ulong RealGuestCode = 0x8000;
    public const ulong LongGuestCode = 0x320000;
    /// <summary>Guest-physical pages the nested map leaves out: a data page and a page directory of the guest's.</summary>
    public const ulong UnmappedPage = 0x480000, UnmappedTablePage = 0x4C0000;
    /// <summary>On an NPF the hypervisor maps guest-physical g to host-physical g + BackingOffset.</summary>
    public const ulong BackingOffset = 0x100000;
    /// <summary>The linear address the 64-bit guest reads: through its PDPTE 1 and the page directory at <see cref="UnmappedTablePage"/> to <see cref="UnmappedPage"/> + 10h.</summary>
    public const ulong LongGuestData = 0x40080010;
    public const uint CpuidLeaf = 0x40000000;
    /// <summary>What the emulated CPUID leaf returns in EBX: "SimS".</summary>
    public const uint CpuidEbx = 0x536D6953;

    // VMCB offsets (APM vol. 2, appendix B, tables B-1 and B-2).
    private const int InterceptMisc1 = 0x00C, InterceptMisc2 = 0x010, IopmBasePa = 0x040, MsrpmBasePa = 0x048;
    private const int GuestAsid = 0x058, TlbControl = 0x05C, ExitCode = 0x070, ExitInfo1 = 0x078, ExitInfo2 = 0x080;
    private const int NpEnable = 0x090, NCr3 = 0x0B0, NRip = 0x0C8;
    private const int Es = 0x400, Cs = 0x410, Ss = 0x420, Ds = 0x430, Fs = 0x440, Gs = 0x450, Gdtr = 0x460, Ldtr = 0x470, Idtr = 0x480, Tr = 0x490;
    private const int Efer = 0x4D0, Cr4 = 0x548, Cr3 = 0x550, Cr0 = 0x558, Dr7 = 0x560, Dr6 = 0x568, Rflags = 0x570, Rip = 0x578, Rsp = 0x5D8, Rax = 0x5F8, GPat = 0x668;

    // Intercept bits: vector 3 (offset 0Ch) and vector 4 (offset 10h).
    private const uint InterceptCpuid = 1u << 18, InterceptHlt = 1u << 24, InterceptIoio = 1u << 27, InterceptShutdown = 1u << 31;
    private const uint InterceptVmrun = 1u << 0;

    public const int ExitCpuid = 0x72, ExitHlt = 0x78, ExitIoio = 0x7B, ExitNpf = 0x400;

    /// <summary>The real-mode guest: CPUID, OUT 80h of BL, two bytes straight to port 0xE9 (not intercepted), HLT.</summary>
    public static byte[] RealGuest() => Assemble(16, RealGuestCode, a =>
    {
        a.mov(eax, CpuidLeaf);
        a.cpuid();
        a.mov(al, bl);
        a.@out(0x80, al);
        a.mov(al, (byte)'R');
        a.@out(0xE9, al);
        a.mov(al, (byte)'\n');
        a.@out(0xE9, al);
        a.hlt();
    });

    /// <summary>The 64-bit guest: CPUID, a read through the page directory and of the page the nested map leaves out, OUT 80h of what it read, HLT.</summary>
    public static byte[] LongGuest() => Assemble(64, LongGuestCode, a =>
    {
        a.mov(eax, CpuidLeaf);
        a.cpuid();
        a.mov(rsi, LongGuestData);
        a.mov(al, __byte_ptr[rsi]);
        a.@out(0x80, al);
        a.hlt();
    });

    public static BootImage Image() => new()
    {
        Chunks =
        [
            new MemoryChunk(CodeAddress, Hypervisor()),
            new MemoryChunk(RealGuestCode, RealGuest()),
            new MemoryChunk(LongGuestCode, LongGuest()),
        ],
        Entry = new LongModeEntry(CodeAddress, 0, 0),
        Description = "SVM hypervisor test",
    };

    public static byte[] Assemble(int bitness, ulong address, Action<Assembler> build)
    {
        var asm = new Assembler(bitness);
        build(asm);
        var stream = new MemoryStream();
        asm.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    private static byte[] Hypervisor()
    {
        var a = new Assembler(64);
        var strings = new List<(Label Label, string Text)>();
        var puts = a.CreateLabel();
        var hex = a.CreateLabel();
        var fail = a.CreateLabel();
        var run = a.CreateLabel();

        void Print(string text)
        {
            var label = a.CreateLabel();
            strings.Add((label, text));
            a.lea(rsi, __[label]);
            a.call(puts);
        }

        void PrintHex(Action load)
        {
            load();
            a.call(hex);
        }

        void Store64(ulong address, ulong value)
        {
            a.mov(rax, value);
            a.mov(__qword_ptr[address], rax);
        }

        void Segment(int offset, ushort selector, ushort attrib, uint limit)
        {
            a.mov(__word_ptr[Vmcb + (ulong)offset], selector);
            a.mov(__word_ptr[Vmcb + (ulong)offset + 2], attrib);
            a.mov(__dword_ptr[Vmcb + (ulong)offset + 4], limit);
            a.mov(__qword_ptr[Vmcb + (ulong)offset + 8], 0);
        }

        void Zero(ulong address, int bytes)
        {
            a.mov(rdi, address);
            a.mov(ecx, bytes / 8);
            a.xor(eax, eax);
            a.rep.stosq();
        }

        a.mov(rsp, HostStack);

        // CPUID Fn8000_0001 ECX[2]: SVM; Fn8000_000A EDX[0]: nested paging (15.4, 15.25.1).
        var noSvm = a.CreateLabel();
        a.mov(eax, 0x80000001);
        a.cpuid();
        a.bt(ecx, 2);
        a.jnc(noSvm);
        Print("SVM\n");
        a.mov(eax, 0x8000000A);
        a.cpuid();
        a.bt(edx, 0);
        a.jnc(noSvm);
        Print("NP\n");

        // EFER.SVME, then VM_HSAVE_PA (15.4, 15.30.4).
        a.mov(ecx, 0xC0000080);
        a.rdmsr();
        a.bts(eax, 12);
        a.wrmsr();
        a.mov(ecx, 0xC0010117);
        a.mov(eax, (uint)HostSaveArea);
        a.xor(edx, edx);
        a.wrmsr();

        // What the second guest will find behind the left-out pages once they are mapped, and what
        // the identity-mapped host pages hold instead: its second page directory maps linear
        // 4000_0000h to guest-physical 40_0000h by a 2-MiB page.
        a.mov(__byte_ptr[UnmappedPage + BackingOffset + 0x10], 0x5A);
        a.mov(__byte_ptr[UnmappedPage + 0x10], 0xA5);
        Store64(UnmappedTablePage + BackingOffset, 0x400000 | 0x87);

        // IOPM: 12 KiB, one bit per port; only port 0x80 is intercepted (15.10.1). MSRPM all clear.
        Zero(Iopm, 3 * 4096);
        a.mov(__byte_ptr[Iopm + 0x80 / 8], 1 << (0x80 % 8));
        Zero(Msrpm, 2 * 4096);
        Zero(Vmcb, 4096);
        Zero(GuestRegisters, 0x100);

        a.mov(__dword_ptr[Vmcb + InterceptMisc1], InterceptCpuid | InterceptHlt | InterceptIoio | InterceptShutdown);
        a.mov(__dword_ptr[Vmcb + InterceptMisc2], InterceptVmrun);
        Store64(Vmcb + IopmBasePa, Iopm);
        Store64(Vmcb + MsrpmBasePa, Msrpm);
        a.mov(__dword_ptr[Vmcb + GuestAsid], 1);

        // Guest 1: real mode at 0000:8000 (segment attributes in the VMCB's 12-bit form, 15.5.1 / B-2).
        foreach (var s in new[] { Es, Ss, Ds, Fs, Gs }) Segment(s, 0, 0x93, 0xFFFF);
        Segment(Cs, 0, 0x9B, 0xFFFF);
        Segment(Gdtr, 0, 0, 0xFFFF);
        Segment(Idtr, 0, 0, 0x3FF);
        Segment(Ldtr, 0, 0x82, 0xFFFF);
        Segment(Tr, 0, 0x8B, 0xFFFF);
        Store64(Vmcb + Cr0, 0x10);
        Store64(Vmcb + Cr3, 0);
        Store64(Vmcb + Cr4, 0);
        Store64(Vmcb + Efer, 0x1000);
        Store64(Vmcb + Rflags, 2);
        Store64(Vmcb + Rip, RealGuestCode);
        Store64(Vmcb + Rsp, 0x7000);
        Store64(Vmcb + Dr6, 0xFFFF0FF0);
        Store64(Vmcb + Dr7, 0x400);
        Store64(Vmcb + GPat, 0x0007040600070406);
        a.mov(__byte_ptr[Phase], 1);
        Print("guest 1: real mode\n");

        // The run loop: guest GPRs in, VMRUN with RAX = the VMCB, guest GPRs out (15.5).
        AssemblerRegister64[] registers = [rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15];
        a.Label(ref run);
        for (var i = 0; i < registers.Length; i++) a.mov(registers[i], __qword_ptr[GuestRegisters + (ulong)i * 8]);
        a.mov(rax, Vmcb);
        a.vmrun();
        for (var i = 0; i < registers.Length; i++) a.mov(__qword_ptr[GuestRegisters + (ulong)i * 8], registers[i]);
        a.mov(__byte_ptr[Vmcb + TlbControl], 0);

        var onCpuid = a.CreateLabel();
        var onIoio = a.CreateLabel();
        var onHlt = a.CreateLabel();
        var onNpf = a.CreateLabel();
        a.mov(rax, __qword_ptr[Vmcb + ExitCode]);
        a.cmp(rax, ExitCpuid);
        a.je(onCpuid);
        a.cmp(rax, ExitIoio);
        a.je(onIoio);
        a.cmp(rax, ExitHlt);
        a.je(onHlt);
        a.cmp(rax, ExitNpf);
        a.je(onNpf);
        Print("unexpected exit ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + ExitCode]));
        Print(" ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + ExitInfo1]));
        Print(" ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + ExitInfo2]));
        Print("\n");
        a.jmp(fail);

        // CPUID: the leaf comes from the guest's RAX in the VMCB; the guest resumes at nRIP (15.7.1).
        a.Label(ref onCpuid);
        Print("exit 72 cpuid ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + Rax]));
        Print(" nrip ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + NRip]));
        Print("\n");
        Store64(Vmcb + Rax, CpuidLeaf);
        Store64(GuestRegisters + 0 * 8, CpuidEbx);
        Store64(GuestRegisters + 1 * 8, 0x7548766D);
        Store64(GuestRegisters + 2 * 8, 0x21726570);
        a.mov(rax, __qword_ptr[Vmcb + NRip]);
        a.mov(__qword_ptr[Vmcb + Rip], rax);
        a.jmp(run);

        // IOIO: EXITINFO1 holds port, size and direction (the segment field, bits 12:10, is left out);
        // EXITINFO2 the next RIP (15.10.2).
        a.Label(ref onIoio);
        Print("exit 7b ioio ");
        PrintHex(() =>
        {
            a.mov(rax, __qword_ptr[Vmcb + ExitInfo1]);
            a.and(rax, ~0x1C00);
        });
        Print(" value ");
        PrintHex(() => a.movzx(eax, __byte_ptr[Vmcb + Rax]));
        Print(" next ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + ExitInfo2]));
        Print("\n");
        a.mov(rax, __qword_ptr[Vmcb + ExitInfo2]);
        a.mov(__qword_ptr[Vmcb + Rip], rax);
        a.jmp(run);

        // NPF: map the faulting page to its backing page in the 4-KiB nested table, flush this
        // guest's translations on the next VMRUN, and retry the instruction (15.25.6).
        a.Label(ref onNpf);
        Print("exit 400 npf ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + ExitInfo1]));
        Print(" ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + ExitInfo2]));
        Print(" rip ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + Rip]));
        Print("\n");
        a.mov(rax, __qword_ptr[Vmcb + ExitInfo2]);
        a.and(rax, ~0xFFF);
        a.mov(rdx, rax);
        a.add(rdx, (int)BackingOffset + 7);
        a.shr(rax, 12);
        a.and(eax, 0x1FF);
        a.mov(__qword_ptr[rax * 8 + (long)NestedPt], rdx);
        a.mov(__byte_ptr[Vmcb + TlbControl], 1);
        a.jmp(run);

        // HLT: after guest 1, guest 2; after guest 2, done.
        var finish = a.CreateLabel();
        a.Label(ref onHlt);
        Print("exit 78 hlt rip ");
        PrintHex(() => a.mov(rax, __qword_ptr[Vmcb + Rip]));
        Print("\n");
        a.cmp(__byte_ptr[Phase], 1);
        a.jne(finish);

        // Guest 2's own tables (guest-physical, identity by 2-MiB pages over the first GiB).
        Store64(GuestPml4, GuestPdpt | 7);
        Store64(GuestPdpt, GuestPd | 7);
        Store64(GuestPdpt + 8, UnmappedTablePage | 7);
        var fill = a.CreateLabel();
        a.xor(ecx, ecx);
        a.Label(ref fill);
        a.mov(rax, rcx);
        a.shl(rax, 21);
        a.or(rax, 0x87);
        a.mov(__qword_ptr[rcx * 8 + (long)GuestPd], rax);
        a.inc(ecx);
        a.cmp(ecx, 512);
        a.jb(fill);

        // The nested tables: identity over 64 MiB by 2-MiB pages, except 40_0000h-5F_FFFFh by 4-KiB pages without the two left-out pages.
        Zero(NestedPml4, 4 * 4096);
        Store64(NestedPml4, NestedPdpt | 7);
        Store64(NestedPdpt, NestedPd | 7);
        var nestedFill = a.CreateLabel();
        a.xor(ecx, ecx);
        a.Label(ref nestedFill);
        a.mov(rax, rcx);
        a.shl(rax, 21);
        a.or(rax, 0x87);
        a.mov(__qword_ptr[rcx * 8 + (long)NestedPd], rax);
        a.inc(ecx);
        a.cmp(ecx, 32);
        a.jb(nestedFill);
        Store64(NestedPd + (0x400000 >> 21) * 8, NestedPt | 7);
        var ptFill = a.CreateLabel();
        a.xor(ecx, ecx);
        a.Label(ref ptFill);
        a.mov(rax, rcx);
        a.shl(rax, 12);
        a.add(rax, 0x400007);
        a.mov(__qword_ptr[rcx * 8 + (long)NestedPt], rax);
        a.inc(ecx);
        a.cmp(ecx, 512);
        a.jb(ptFill);
        a.mov(__qword_ptr[NestedPt + ((UnmappedPage - 0x400000) >> 12) * 8], 0);
        a.mov(__qword_ptr[NestedPt + ((UnmappedTablePage - 0x400000) >> 12) * 8], 0);

        // Guest 2: 64-bit mode (CS.L), paging from its own CR3, nested paging from N_CR3 (15.25.3).
        foreach (var s in new[] { Es, Ss, Ds, Fs, Gs }) Segment(s, 0x10, 0xC93, 0xFFFFFFFF);
        Segment(Cs, 0x08, 0xA9B, 0xFFFFFFFF);
        Store64(Vmcb + Cr0, 0x80000011);
        Store64(Vmcb + Cr3, GuestPml4);
        Store64(Vmcb + Cr4, 0x20);
        Store64(Vmcb + Efer, 0x1500);
        Store64(Vmcb + Rflags, 2);
        Store64(Vmcb + Rip, LongGuestCode);
        Store64(Vmcb + Rsp, 0x330000);
        Store64(Vmcb + NpEnable, 1);
        Store64(Vmcb + NCr3, NestedPml4);
        a.mov(__byte_ptr[Vmcb + TlbControl], 1);
        a.mov(__byte_ptr[Phase], 2);
        Print("guest 2: long mode, nested paging\n");
        a.jmp(run);

        a.Label(ref finish);
        Print("done\n");
        a.mov(al, 0);
        a.@out(0xF4, al);
        a.hlt();

        a.Label(ref noSvm);
        Print("no SVM or NP\n");
        a.Label(ref fail);
        a.mov(al, 1);
        a.@out(0xF4, al);
        a.hlt();

        // puts: RSI = NUL-terminated string, to port 0xE9.
        var putsDone = a.CreateLabel();
        a.Label(ref puts);
        a.lodsb();
        a.test(al, al);
        a.jz(putsDone);
        a.@out(0xE9, al);
        a.jmp(puts);
        a.Label(ref putsDone);
        a.ret();

        // hex: RAX in lower-case hex without leading zeros.
        var loop = a.CreateLabel();
        var emit = a.CreateLabel();
        var digit = a.CreateLabel();
        var next = a.CreateLabel();
        a.Label(ref hex);
        a.mov(rdx, rax);
        a.mov(ecx, 60);
        a.xor(r8d, r8d);
        a.Label(ref loop);
        a.mov(rax, rdx);
        a.shr(rax, cl);
        a.and(eax, 0xF);
        a.test(r8d, r8d);
        a.jnz(emit);
        a.test(eax, eax);
        a.jnz(emit);
        a.test(ecx, ecx);
        a.jz(emit);
        a.jmp(next);
        a.Label(ref emit);
        a.mov(r8d, 1);
        a.cmp(al, 10);
        a.jb(digit);
        a.add(al, 'a' - 10 - '0');
        a.Label(ref digit);
        a.add(al, (byte)'0');
        a.@out(0xE9, al);
        a.Label(ref next);
        a.sub(ecx, 4);
        a.jns(loop);
        a.ret();

        foreach (var (label, text) in strings)
        {
            var l = label;
            a.Label(ref l);
            a.db([.. System.Text.Encoding.ASCII.GetBytes(text), 0]);
        }

        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), CodeAddress);
        return stream.ToArray();
    }
}
