using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

public sealed partial class SvmProbeGuest
{
    /// <summary>The probe itself, emitted into the payload's 64-bit program.</summary>
    private sealed class HostProgram(GuestCode code, IReadOnlyList<IReadOnlyList<Write>> cases)
    {
        // VMCB offsets (APM vol. 2, appendix B, tables B-1 and B-2).
        private const int InterceptExceptions = 0x008, InterceptMisc1 = 0x00C, InterceptMisc2 = 0x010, IopmBasePa = 0x040, MsrpmBasePa = 0x048;
        private const int NCr3 = 0x0B0, GuestAsid = 0x058, ExitCode = 0x070, ExitInfo1 = 0x078, ExitInfo2 = 0x080;
        private const int Es = 0x400, Cs = 0x410, Ss = 0x420, Ds = 0x430, Fs = 0x440, Gs = 0x450, Gdtr = 0x460, Ldtr = 0x470, Idtr = 0x480, Tr = 0x490;
        private const int Efer = 0x4D0, Cr4 = 0x548, Cr3 = 0x550, Cr0 = 0x558, Dr7 = 0x560, Dr6 = 0x568, Rflags = 0x570, Rip = 0x578, Rsp = 0x5D8, GPat = 0x668;

        // Intercepts: HLT (misc 1 bit 24), shutdown (misc 1 bit 31), VMRUN (misc 2 bit 0), every exception (APM vol. 2, table B-1).
        private const uint Misc1 = 1u << 24 | 1u << 31, Misc2 = 1;

        private const ulong GdtrScratch = 0x503000;

        private readonly Assembler _a = code.Asm;
        private Label _fail, _noSvm, _done, _nextCase, _caseTable, _casePointer, _caseEnd, _caseIndex;

        public void Emit()
        {
            var a = _a;
            _fail = a.CreateLabel();
            _noSvm = a.CreateLabel();
            _done = a.CreateLabel();
            _nextCase = a.CreateLabel();
            _caseTable = a.CreateLabel();
            _casePointer = a.CreateLabel();
            _caseEnd = a.CreateLabel();
            _caseIndex = a.CreateLabel();

            code.InitSerial();
            code.MaskPic();
            var svm = new SvmSetup(code, _noSvm, _fail);
            svm.RequireSvmAndNestedPaging();
            svm.EnableSvm(HostSaveArea);
            PrintCapabilities();

            a.mov(rdi, GuestCodePage);
            a.mov(ecx, 4096);
            a.mov(al, 0xF4);
            a.rep.stosb();
            code.ZeroPages(Iopm, 3);
            code.ZeroPages(Msrpm, 2);
            code.ZeroPages(Vmcb, 1);
            code.ZeroPages(NestedPml4, 1);
            Baseline();

            a.lea(rax, __[_caseTable]);
            a.add(rax, 8);
            a.mov(__qword_ptr[_casePointer], rax);
            a.mov(__qword_ptr[_caseIndex], 0);
            CaseLoop();

            a.Label(ref _done);
            code.Print("done\n");
            code.Exit();
            a.Label(ref _noSvm);
            code.Print("no SVM\n");
            a.Label(ref _fail);
            code.Fail(FailureStatus);
            Data();
        }

        private void PrintCapabilities()
        {
            var a = _a;
            foreach (var leaf in CapabilityLeaves)
            {
                code.Print($"cap {leaf:x} ");
                a.mov(eax, leaf);
                a.xor(ecx, ecx);
                a.cpuid();
                // Leaf 7: ECX:EBX; 80000008H: EAX; 8000000AH: EDX; the others ECX:EDX.
                switch (leaf)
                {
                    case 7: a.mov(edx, ebx); break;
                    case 0x80000008: a.mov(edx, eax); a.xor(ecx, ecx); break;
                    case 0x8000000A: a.xor(ecx, ecx); break;
                }
                a.mov(eax, ecx);
                a.shl(rax, 32);
                a.mov(edx, edx);
                a.or(rax, rdx);
                code.PrintHexCompact();
                code.Print("\n");
            }
        }

        /// <summary>The valid baseline VMCB every case starts from (APM vol. 2, 15.5.1): the host's own CR0, CR3, CR4, EFER and GDT, flat 64-bit segments.</summary>
        private void Baseline()
        {
            var a = _a;
            code.ZeroPages(BaselineVmcb, 1);
            a.mov(rdi, BaselineVmcb);
            a.mov(__dword_ptr[rdi + InterceptExceptions], 0xFFFFFFFF);
            a.mov(__dword_ptr[rdi + InterceptMisc1], Misc1);
            a.mov(__dword_ptr[rdi + InterceptMisc2], Misc2);
            Store64(IopmBasePa, Iopm);
            Store64(MsrpmBasePa, Msrpm);
            Store64(NCr3, NestedPml4);
            a.mov(__dword_ptr[rdi + GuestAsid], 1);
            foreach (var s in new[] { Es, Ss, Ds, Fs, Gs }) Segment(s, GuestDataSelector, 0xC93, 0xFFFFFFFF);
            Segment(Cs, GuestCodeSelector, 0xA9B, 0xFFFFFFFF);
            Segment(Ldtr, 0, 0, 0);
            Segment(Idtr, 0, 0, 0);
            Segment(Tr, 0, 0x8B, 0x67);
            // SGDT stores a 2-byte limit and an 8-byte base.
            a.sgdt(__[GdtrScratch]);
            a.movzx(eax, __word_ptr[GdtrScratch]);
            a.mov(__dword_ptr[rdi + Gdtr + 4], eax);
            a.mov(rax, __qword_ptr[GdtrScratch + 2]);
            a.mov(__qword_ptr[rdi + Gdtr + 8], rax);
            a.mov(ecx, 0xC0000080);
            a.rdmsr();
            a.mov(__dword_ptr[rdi + Efer], eax);
            a.mov(__dword_ptr[rdi + Efer + 4], edx);
            foreach (var (register, offset) in new[] { (cr0, Cr0), (cr3, Cr3), (cr4, Cr4) })
            {
                a.mov(rax, register);
                a.mov(__qword_ptr[rdi + offset], rax);
            }
            Store64(Dr7, 0x400);
            Store64(Dr6, 0xFFFF0FF0);
            Store64(Rflags, 2);
            Store64(Rip, GuestRip);
            Store64(Rsp, GuestStack);
            Store64(GPat, 0x0007040600070406);
        }

        /// <summary>A quadword of the baseline VMCB (RDI holds its address).</summary>
        private void Store64(int offset, ulong value)
        {
            _a.mov(rax, value);
            _a.mov(__qword_ptr[rdi + offset], rax);
        }

        private void Segment(int offset, ushort selector, ushort attrib, uint limit)
        {
            var a = _a;
            a.mov(__word_ptr[rdi + offset], selector);
            a.mov(__word_ptr[rdi + offset + 2], attrib);
            a.mov(__dword_ptr[rdi + offset + 4], limit);
            a.mov(__qword_ptr[rdi + offset + 8], 0);
        }

        /// <summary>One case: "INDEX ", the baseline copied over the VMCB, the case's writes, VMRUN and what the #VMEXIT reported.</summary>
        private void CaseLoop()
        {
            var a = _a;
            var writeLoop = a.CreateLabel();
            var run = a.CreateLabel();
            var size1 = a.CreateLabel();
            var size2 = a.CreateLabel();
            var size4 = a.CreateLabel();
            var written = a.CreateLabel();

            a.Label(ref _nextCase);
            a.mov(rax, __qword_ptr[_caseIndex]);
            a.cmp(rax, __qword_ptr[_caseTable]);
            a.jae(_done);
            code.PrintHexCompact();
            code.Print(" ");
            a.mov(rsi, BaselineVmcb);
            a.mov(rdi, Vmcb);
            a.mov(ecx, 4096 / 8);
            a.rep.movsq();

            // The case: a count of writes, then (offset, size, value) triples; the next case follows.
            a.mov(rsi, __qword_ptr[_casePointer]);
            a.mov(r13, __qword_ptr[rsi]);
            a.add(rsi, 8);
            a.imul(rax, r13, 24);
            a.add(rax, rsi);
            a.mov(__qword_ptr[_caseEnd], rax);
            a.Label(ref writeLoop);
            a.test(r13, r13);
            a.jz(run);
            a.mov(rdi, Vmcb);
            a.add(rdi, __qword_ptr[rsi]);
            a.mov(rax, __qword_ptr[rsi + 16]);
            a.mov(rcx, __qword_ptr[rsi + 8]);
            a.cmp(ecx, 1);
            a.je(size1);
            a.cmp(ecx, 2);
            a.je(size2);
            a.cmp(ecx, 4);
            a.je(size4);
            a.mov(__qword_ptr[rdi], rax);
            a.jmp(written);
            a.Label(ref size1);
            a.mov(__byte_ptr[rdi], al);
            a.jmp(written);
            a.Label(ref size2);
            a.mov(__word_ptr[rdi], ax);
            a.jmp(written);
            a.Label(ref size4);
            a.mov(__dword_ptr[rdi], eax);
            a.Label(ref written);
            a.add(rsi, 24);
            a.dec(r13);
            a.jmp(writeLoop);

            a.Label(ref run);
            a.mov(rax, Vmcb);
            a.vmrun();
            code.Print("exit ");
            foreach (var (offset, label) in new[] { (ExitCode, ""), (ExitInfo1, " i1 "), (ExitInfo2, " i2 ") })
            {
                if (label.Length > 0) code.Print(label);
                a.mov(rax, __qword_ptr[Vmcb + (ulong)offset]);
                code.PrintHexCompact();
            }
            code.Print("\n");
            a.mov(rax, __qword_ptr[_caseEnd]);
            a.mov(__qword_ptr[_casePointer], rax);
            a.inc(__qword_ptr[_caseIndex]);
            a.jmp(_nextCase);
        }

        private void Data()
        {
            var a = _a;
            foreach (var label in new[] { _casePointer, _caseEnd, _caseIndex })
            {
                var l = label;
                a.Label(ref l);
                a.dq(0UL);
            }
            a.Label(ref _caseTable);
            a.dq((ulong)cases.Count);
            foreach (var c in cases)
            {
                a.dq((ulong)c.Count);
                foreach (var w in c)
                {
                    a.dq(w.Offset);
                    a.dq((ulong)w.Size);
                    a.dq(w.Value);
                }
            }
            code.EmitBlobs();
        }
    }
}
