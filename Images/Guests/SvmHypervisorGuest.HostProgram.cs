using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

public sealed partial class SvmHypervisorGuest
{
    /// <summary>The hypervisor itself, emitted into the payload's 64-bit program.</summary>
    private sealed class HostProgram(GuestCode code)
    {
        private const ulong HostSaveArea = 0x200000;
        private const ulong Vmcb = 0x201000;
        private const ulong Iopm = 0x204000;
        private const ulong Msrpm = 0x208000;

        /// <summary>Guest RBX, RCX, RDX, RSI, RDI, RBP and R8-R15, which VMRUN and #VMEXIT leave in the registers (15.5, 15.6).</summary>
        private const ulong GuestRegisters = 0x20A000;
        private const ulong Phase = 0x20A100;
        private const ulong NestedPml4 = 0x300000, NestedPdpt = 0x301000, NestedPd = 0x302000, NestedPt = 0x303000;
        private const ulong GuestPml4 = 0x310000, GuestPdpt = 0x311000, GuestPd = 0x312000;
        private const ulong RealGuestStack = 0x7000, LongGuestStack = 0x330000;

        // VMCB offsets (APM vol. 2, appendix B, tables B-1 and B-2).
        private const int InterceptMisc1 = 0x00C, InterceptMisc2 = 0x010, IopmBasePa = 0x040, MsrpmBasePa = 0x048;
        private const int GuestAsid = 0x058, TlbControl = 0x05C, ExitCode = 0x070, ExitInfo1 = 0x078, ExitInfo2 = 0x080;
        private const int NpEnable = 0x090, NCr3 = 0x0B0, NRip = 0x0C8;
        private const int Es = 0x400, Cs = 0x410, Ss = 0x420, Ds = 0x430, Fs = 0x440, Gs = 0x450, Gdtr = 0x460, Ldtr = 0x470, Idtr = 0x480, Tr = 0x490;
        private const int Efer = 0x4D0, Cr4 = 0x548, Cr3 = 0x550, Cr0 = 0x558, Dr7 = 0x560, Dr6 = 0x568, Rflags = 0x570, Rip = 0x578, Rsp = 0x5D8, Rax = 0x5F8, GPat = 0x668;

        // Intercept bits: vector 3 (offset 0Ch) and vector 4 (offset 10h).
        private const uint InterceptCpuid = 1u << 18, InterceptHlt = 1u << 24, InterceptIoio = 1u << 27, InterceptShutdown = 1u << 31;
        private const uint InterceptVmrun = 1u << 0;

        // CPUID Fn8000_000A EDX: NRIP save (3) (15.7.1).
        private const int NripSaveBit = 3;

        /// <summary>CPUID (0F A2) is two bytes: without NRIP save the hypervisor advances RIP by that (15.7.1).</summary>
        private const int CpuidLength = 2;

        private readonly Assembler _a = code.Asm;
        private Label _fail, _nripSave, _noSvm;

        public void Emit()
        {
            var a = _a;
            _fail = a.CreateLabel();
            _nripSave = a.CreateLabel();
            _noSvm = a.CreateLabel();
            var run = a.CreateLabel();
            code.InitSerial();

            var svm = new SvmSetup(code, _noSvm, _fail);
            var noNripSave = a.CreateLabel();
            svm.RequireSvmAndNestedPaging();
            a.bt(edx, NripSaveBit);
            a.jnc(noNripSave);
            a.mov(__byte_ptr[_nripSave], 1);
            a.Label(ref noNripSave);
            svm.EnableSvm(HostSaveArea);

            code.CopyBlob(RealGuest(), RealGuestCode);
            code.CopyBlob(LongGuest(), LongGuestCode);

            // What the second guest will find behind the left-out pages once they are mapped, and what
            // the identity-mapped host pages hold instead: its second page directory maps linear
            // 4000_0000h to guest-physical 40_0000h by a 2-MiB page.
            code.ZeroPages(UnmappedTablePage + BackingOffset, 1);
            code.ZeroPages(UnmappedTablePage, 1);
            a.mov(__byte_ptr[UnmappedPage + BackingOffset + (LongGuestData & 0xFFF)], BackingByte);
            a.mov(__byte_ptr[UnmappedPage + (LongGuestData & 0xFFF)], IdentityByte);
            Store64(UnmappedTablePage + BackingOffset + (LongGuestData >> 21 & 0x1FF) * 8, LargePage | 0x87);

            // IOPM: 12 KiB, one bit per port; only port 80h is intercepted (15.10.1). MSRPM all clear.
            code.ZeroPages(Iopm, 3);
            a.mov(__byte_ptr[Iopm + 0x80 / 8], 1 << (0x80 % 8));
            code.ZeroPages(Msrpm, 2);
            code.ZeroPages(Vmcb, 1);
            code.ZeroPages(GuestRegisters, 1);

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
            Store64(Vmcb + Rsp, RealGuestStack);
            Store64(Vmcb + Dr6, 0xFFFF0FF0);
            Store64(Vmcb + Dr7, 0x400);
            Store64(Vmcb + GPat, 0x0007040600070406);
            a.mov(__byte_ptr[Phase], 1);
            code.Print("guest 1: real mode\n");

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
            code.Print("unexpected exit ");
            PrintQword(Vmcb + ExitCode);
            code.Print(" ");
            PrintQword(Vmcb + ExitInfo1);
            code.Print(" ");
            PrintQword(Vmcb + ExitInfo2);
            code.Print("\n");
            a.jmp(_fail);

            // CPUID: the leaf comes from the guest's RAX in the VMCB; the guest resumes at nRIP where the
            // processor saves it, else two bytes on (15.7.1).
            var haveNext = a.CreateLabel();
            a.Label(ref onCpuid);
            a.mov(rax, __qword_ptr[Vmcb + NRip]);
            a.cmp(__byte_ptr[_nripSave], 0);
            a.jne(haveNext);
            a.mov(rax, __qword_ptr[Vmcb + Rip]);
            a.add(rax, CpuidLength);
            a.Label(ref haveNext);
            a.mov(__qword_ptr[Vmcb + Rip], rax);
            code.Print("exit 72 cpuid ");
            PrintQword(Vmcb + Rax);
            code.Print(" next ");
            PrintQword(Vmcb + Rip);
            code.Print("\n");
            Store64(Vmcb + Rax, HypervisorLeaf);
            for (var i = 0; i < 3; i++) Store64(GuestRegisters + (ulong)i * 8, (uint)BitConverter.ToInt32(System.Text.Encoding.ASCII.GetBytes(Signature), i * 4));
            a.jmp(run);

            // IOIO: EXITINFO1 holds port, size and direction (the segment field, bits 12:10, is left out);
            // EXITINFO2 the next RIP (15.10.2).
            a.Label(ref onIoio);
            code.Print("exit 7b ioio ");
            a.mov(rax, __qword_ptr[Vmcb + ExitInfo1]);
            a.and(rax, ~0x1C00);
            code.PrintHexCompact();
            code.Print(" value ");
            a.movzx(eax, __byte_ptr[Vmcb + Rax]);
            code.PrintHexCompact();
            code.Print(" next ");
            PrintQword(Vmcb + ExitInfo2);
            code.Print("\n");
            a.mov(rax, __qword_ptr[Vmcb + ExitInfo2]);
            a.mov(__qword_ptr[Vmcb + Rip], rax);
            a.jmp(run);

            // NPF: map the faulting page to its backing page in the 4-KiB nested table, flush this
            // guest's translations on the next VMRUN, and retry the instruction (15.25.6).
            a.Label(ref onNpf);
            code.Print("exit 400 npf ");
            PrintQword(Vmcb + ExitInfo1);
            code.Print(" ");
            PrintQword(Vmcb + ExitInfo2);
            code.Print(" rip ");
            PrintQword(Vmcb + Rip);
            code.Print("\n");
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
            code.Print("exit 78 hlt rip ");
            PrintQword(Vmcb + Rip);
            code.Print("\n");
            a.cmp(__byte_ptr[Phase], 1);
            a.jne(finish);

            // Guest 2's own tables (guest-physical, identity by 2-MiB pages over the first GiB).
            code.ZeroPages(GuestPml4, 3);
            Store64(GuestPml4, GuestPdpt | 7);
            Store64(GuestPdpt, GuestPd | 7);
            Store64(GuestPdpt + 8, UnmappedTablePage | 7);
            FillTable(GuestPd, 512, 21, 0x87);

            // The nested tables: identity over 64 MiB by 2-MiB pages, except 40_0000h-5F_FFFFh by 4-KiB pages without the two left-out pages.
            code.ZeroPages(NestedPml4, 4);
            Store64(NestedPml4, NestedPdpt | 7);
            Store64(NestedPdpt, NestedPd | 7);
            FillTable(NestedPd, 32, 21, 0x87);
            Store64(NestedPd + (0x400000 >> 21) * 8, NestedPt | 7);
            FillTable(NestedPt, 512, 12, 0x400007);
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
            Store64(Vmcb + Rsp, LongGuestStack);
            Store64(Vmcb + NpEnable, 1);
            Store64(Vmcb + NCr3, NestedPml4);
            a.mov(__byte_ptr[Vmcb + TlbControl], 1);
            a.mov(__byte_ptr[Phase], 2);
            code.Print("guest 2: long mode, nested paging\n");
            a.jmp(run);

            a.Label(ref finish);
            code.Print("done\n");
            code.Exit();

            a.Label(ref _fail);
            code.Fail(FailureStatus);

            Data();
        }

        private void Data()
        {
            var a = _a;
            a.Label(ref _noSvm);
            code.Print(NoSvmOutput);
            a.jmp(_fail);

            a.Label(ref _nripSave);
            a.db(0);
            code.EmitBlobs();
        }

        /// <summary>Fills <paramref name="count"/> entries of the table at <paramref name="table"/>: entry i maps (i &lt;&lt; <paramref name="pageShift"/>) + <paramref name="first"/>, the first page's address and flags.</summary>
        private void FillTable(ulong table, int count, int pageShift, int first)
        {
            var a = _a;
            var fill = a.CreateLabel();
            a.xor(ecx, ecx);
            a.Label(ref fill);
            a.mov(rax, rcx);
            a.shl(rax, (byte)pageShift);
            a.add(rax, first);
            a.mov(__qword_ptr[rcx * 8 + (long)table], rax);
            a.inc(ecx);
            a.cmp(ecx, count);
            a.jb(fill);
        }

        private void PrintQword(ulong address)
        {
            _a.mov(rax, __qword_ptr[address]);
            code.PrintHexCompact();
        }

        private void Store64(ulong address, ulong value)
        {
            _a.mov(rax, value);
            _a.mov(__qword_ptr[address], rax);
        }

        private void Segment(int offset, ushort selector, ushort attrib, uint limit)
        {
            var a = _a;
            a.mov(__word_ptr[Vmcb + (ulong)offset], selector);
            a.mov(__word_ptr[Vmcb + (ulong)offset + 2], attrib);
            a.mov(__dword_ptr[Vmcb + (ulong)offset + 4], limit);
            a.mov(__qword_ptr[Vmcb + (ulong)offset + 8], 0);
        }


    }
}
