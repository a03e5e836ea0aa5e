using System.Text;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

public sealed partial class VmxHypervisorGuest
{
    /// <summary>The hypervisor itself, emitted into the payload's 64-bit program.</summary>
    private sealed class HostProgram(GuestCode code)
    {
        // MSRs (SDM vol. 4, table 2-2; vol. 3, appendix A).
        private const int PinControlsMsr = VmxSetup.PinControlsMsr, ProcControlsMsr = VmxSetup.ProcControlsMsr, ExitControlsMsr = VmxSetup.ExitControlsMsr,
            EntryControlsMsr = VmxSetup.EntryControlsMsr, Cr0Fixed0 = VmxSetup.Cr0Fixed0, Cr0Fixed1 = VmxSetup.Cr0Fixed1, Cr4Fixed0 = VmxSetup.Cr4Fixed0,
            Cr4Fixed1 = VmxSetup.Cr4Fixed1, Proc2ControlsMsr = VmxSetup.Proc2ControlsMsr, EptVpidCap = VmxSetup.EptVpidCap;

        // VMCS field encodings (SDM vol. 3, appendix B).
        private const uint HostEsSelector = 0xC00;
        private const uint EptPointer = 0x201A, GuestPhysicalAddress = 0x2400, VmcsLinkPointer = 0x2800, GuestDebugCtl = 0x2802, GuestEfer = 0x2806;
        private const uint PinControls = 0x4000, ProcControls = 0x4002, ExceptionBitmap = 0x4004, PfErrorMask = 0x4006, PfErrorMatch = 0x4008,
            Cr3TargetCount = 0x400A, ExitControls = 0x400C, ExitMsrStoreCount = 0x400E, ExitMsrLoadCount = 0x4010, EntryControls = 0x4012,
            EntryMsrLoadCount = 0x4014, EntryInterruptionInfo = 0x4016, Proc2Controls = 0x401E;
        private const uint InstructionError = 0x4400, ExitReason = 0x4402, ExitInstructionLength = 0x440C;
        private const uint GuestGdtrLimit = 0x4810, GuestIdtrLimit = 0x4812,
            GuestInterruptibility = 0x4824, GuestActivity = 0x4826, GuestSysenterCs = 0x482A, HostSysenterCs = 0x4C00;
        private const uint Cr0Mask = 0x6000, Cr4Mask = 0x6002, Cr0Shadow = 0x6004, Cr4Shadow = 0x6006;
        private const uint ExitQualification = 0x6400, GuestLinearAddress = 0x640A;
        private const uint GuestCr0 = 0x6800, GuestCr3 = 0x6802, GuestCr4 = 0x6804, GuestGdtrBase = 0x6816,
            GuestIdtrBase = 0x6818, GuestDr7 = 0x681A, GuestRsp = 0x681C, GuestRip = 0x681E, GuestRflags = 0x6820,
            GuestPendingDebug = 0x6822, GuestSysenterEsp = 0x6824, GuestSysenterEip = 0x6826;
        private const uint HostCr0 = 0x6C00, HostCr3 = 0x6C02, HostCr4 = 0x6C04, HostFsBase = 0x6C06, HostGsBase = 0x6C08,
            HostTrBase = 0x6C0A, HostGdtrBase = 0x6C0C, HostIdtrBase = 0x6C0E, HostSysenterEsp = 0x6C10, HostSysenterEip = 0x6C12,
            HostRsp = 0x6C14, HostRip = 0x6C16;

        private const int EnableEpt = VmxSetup.EnableEpt, UnrestrictedGuest = VmxSetup.UnrestrictedGuest;

        // IA32_VMX_EPT_VPID_CAP: 4-level walk (6), WB (14), INVEPT (20), A/D flags (21), single-context INVEPT (25) (SDM vol. 3, A.10).
        private const int EptWalk4 = 6, EptWriteBack = 14, Invept = 20, EptAccessedDirty = 21, InveptSingleContext = 25;

        private readonly Assembler _a = code.Asm;
        private VmxSetup _vmx = null!;
        private Label _vmFail, _advanceRip, _writeHostAndControls, _exitHandler, _resume, _fail;
        private Label _savedRax, _savedRbx, _savedRcx, _savedRdx, _guestNumber, _entryControls, _eptPointer,
            _realVmcsPointer, _longVmcsPointer, _inveptDescriptor;

        private void CreateLabels()
        {
            var a = _a;
            _vmFail = a.CreateLabel();
            _advanceRip = a.CreateLabel();
            _writeHostAndControls = a.CreateLabel();
            _exitHandler = a.CreateLabel();
            _resume = a.CreateLabel();
            _fail = a.CreateLabel();
            _savedRax = a.CreateLabel();
            _savedRbx = a.CreateLabel();
            _savedRcx = a.CreateLabel();
            _savedRdx = a.CreateLabel();
            _guestNumber = a.CreateLabel();
            _entryControls = a.CreateLabel();
            _eptPointer = a.CreateLabel();
            _realVmcsPointer = a.CreateLabel();
            _longVmcsPointer = a.CreateLabel();
            _inveptDescriptor = a.CreateLabel();
        }

        public void Emit()
        {
            var a = _a;
            CreateLabels();
            code.InitSerial();
            _vmx = new VmxSetup(code, _vmFail, _fail);
            _vmx.EnableVmx(NoVmxOutput, VmxonRegion, RealVmcs, LongVmcs);
            // What the program needs beyond basic VMX: an EPT with 4-level WB tables, A/D flags and single-context INVEPT (A.10).
            foreach (var (bit, what) in new[] { (EptWalk4, "4-level walk"), (EptWriteBack, "WB"), (Invept, "INVEPT"), (EptAccessedDirty, "A/D"), (InveptSingleContext, "single-context INVEPT") })
                _vmx.RequireControl(EptVpidCap, bit, $"no EPT {what}\n");
            code.Print("vmxon\n");
            _vmx.SetUpHostDescriptors(HostGdt, HostTss);
            code.CopyBlob(RealGuest(), RealGuestCode);
            code.CopyBlob(LongGuest(), LongGuestCode);
            BuildEpt();
            BuildLongGuestPageTables();

            // The first guest: real mode under unrestricted guest.
            a.mov(__qword_ptr[_guestNumber], 1);
            a.mov(__qword_ptr[_entryControls], 0);
            a.mov(rax, Eptp);
            a.mov(__qword_ptr[_eptPointer], rax);
            _vmx.LoadVmcs(_realVmcsPointer);
            a.call(_writeHostAndControls);
            WriteRealGuest();
            code.Print("launch real\n");
            a.vmlaunch();
            a.jmp(_vmFail);

            ExitHandler();
            Routines();
            Data();
        }



        /// <summary>An identity map of guest-physical 0-2 MiB with 4-KiB pages, except the three pages the guests will fault on.</summary>
        private void BuildEpt()
        {
            var a = _a;
            var loop = a.CreateLabel();
            var skip = a.CreateLabel();
            code.ZeroPages(EptPml4, 4);
            foreach (var (table, entry) in new[] { (EptPml4, EptPdpt | 7), (EptPdpt, EptPd | 7), (EptPd, EptPt | 7) })
            {
                a.mov(rdi, table);
                a.mov(rax, entry);
                a.mov(__qword_ptr[rdi], rax);
            }
            a.mov(rdi, EptPt);
            a.xor(ebx, ebx);
            a.Label(ref loop);
            a.mov(rax, rbx);
            a.shl(rax, 12);
            a.cmp(rax, (int)RealGuestUnmapped);
            a.je(skip);
            a.cmp(rax, (int)LongGuestUnmapped);
            a.je(skip);
            a.cmp(rax, (int)LongGuestPageDirectory);
            a.je(skip);
            a.or(rax, (int)EptPage);
            a.mov(__qword_ptr[rdi + rbx * 8], rax);
            a.Label(ref skip);
            a.inc(ebx);
            a.cmp(ebx, 512);
            a.jb(loop);
        }

        /// <summary>The 64-bit guest's own page tables in its memory: the first 2 MiB as one supervisor read/write page.</summary>
        private void BuildLongGuestPageTables()
        {
            var a = _a;
            code.ZeroPages(GuestPml4, 3);
            foreach (var (table, entry) in new[] { (GuestPml4, GuestPdpt | 3), (GuestPdpt, GuestPd | 3), (GuestPd, 0x83UL) })
            {
                a.mov(rdi, table);
                a.mov(rax, entry);
                a.mov(__qword_ptr[rdi], rax);
            }
        }

        private void Routines()
        {
            var a = _a;

            _vmx.EmitRoutines();

            // Host state and controls common to both guests (SDM vol. 3, 24.5-24.8, 26.2).
            a.Label(ref _writeHostAndControls);
            {
                _vmx.SelectTrueControls();

                _vmx.Adjust(0, PinControlsMsr, true);
                _vmx.WriteRbx(PinControls);
                // HLT exiting (7), unconditional I/O exiting (24), activate secondary controls (31).
                _vmx.Adjust(1UL << 7 | 1UL << 24 | 1UL << 31, ProcControlsMsr, true);
                _vmx.WriteRbx(ProcControls);
                _vmx.Adjust(1UL << EnableEpt | 1UL << UnrestrictedGuest, Proc2ControlsMsr, false);
                _vmx.WriteRbx(Proc2Controls);
                // Host address-space size (9): the host runs in 64-bit mode.
                _vmx.Adjust(1UL << 9, ExitControlsMsr, true);
                _vmx.WriteRbx(ExitControls);
                a.mov(rbx, __qword_ptr[_entryControls]);
                _vmx.AdjustRbx(EntryControlsMsr, true);
                _vmx.WriteRbx(EntryControls);
                foreach (var field in new[] { ExceptionBitmap, PfErrorMask, PfErrorMatch, Cr3TargetCount, ExitMsrStoreCount, ExitMsrLoadCount, EntryMsrLoadCount, EntryInterruptionInfo })
                    _vmx.Write(field, 0);
                foreach (var field in new[] { Cr0Mask, Cr4Mask, Cr0Shadow, Cr4Shadow })
                    _vmx.Write(field, 0);
                a.mov(rbx, __qword_ptr[_eptPointer]);
                _vmx.WriteRbx(EptPointer);

                a.mov(rbx, cr0);
                _vmx.WriteRbx(HostCr0);
                a.mov(rbx, cr3);
                _vmx.WriteRbx(HostCr3);
                a.mov(rbx, cr4);
                _vmx.WriteRbx(HostCr4);
                for (uint i = 0; i < 6; i++) _vmx.Write(HostEsSelector + 2 * i, i == 1 ? 0x08UL : 0x10UL);
                _vmx.Write(HostEsSelector + 12, 0x18);
                _vmx.Write(HostFsBase, 0);
                _vmx.Write(HostGsBase, 0);
                _vmx.Write(HostTrBase, HostTss);
                _vmx.Write(HostGdtrBase, HostGdt);
                _vmx.Write(HostIdtrBase, 0);
                _vmx.Write(HostSysenterCs, 0);
                _vmx.Write(HostSysenterEsp, 0);
                _vmx.Write(HostSysenterEip, 0);
                _vmx.Write(HostRsp, ExitStack);
                a.lea(rbx, __[_exitHandler]);
                _vmx.WriteRbx(HostRip);

                // Guest state both guests share (26.3.1).
                _vmx.Write(VmcsLinkPointer, ulong.MaxValue);
                _vmx.Write(GuestDebugCtl, 0);
                _vmx.Write(GuestDr7, 0x400);
                _vmx.Write(GuestRflags, 2);
                _vmx.Write(GuestPendingDebug, 0);
                _vmx.Write(GuestInterruptibility, 0);
                _vmx.Write(GuestActivity, 0);
                _vmx.Write(GuestSysenterCs, 0);
                _vmx.Write(GuestSysenterEsp, 0);
                _vmx.Write(GuestSysenterEip, 0);
                // LDTR unusable (access-rights bit 16).
                _vmx.WriteSegment(6, 0, 0, 0, 0x10000);
                a.ret();
            }

            a.Label(ref _advanceRip);
            a.mov(eax, GuestRip);
            a.vmread(rbx, rax);
            a.add(rbx, r14);
            a.vmwrite(rax, rbx);
            a.jbe(_vmFail);
            a.ret();

            // VMfailInvalid (CF) or VMfailValid (ZF) with the VM-instruction error (SDM vol. 3, 31.4).
            a.Label(ref _vmFail);
            code.Print("vmfail ");
            a.mov(eax, InstructionError);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            code.Print("\n");
            a.Label(ref _fail);
            code.Fail(FailureStatus);
        }

        /// <summary>Real mode: with unrestricted guest CR0.PE and CR0.PG may be 0 (SDM vol. 3, 26.3.1.1).</summary>
        private void WriteRealGuest()
        {
            _vmx.WriteGuestControlRegister(GuestCr0, 0x30, Cr0Fixed0, Cr0Fixed1, exempt: 0x80000001);
            _vmx.WriteGuestControlRegister(GuestCr4, 0, Cr4Fixed0, Cr4Fixed1, exempt: 0);
            _vmx.Write(GuestCr3, 0);
            for (uint i = 0; i < 6; i++) _vmx.WriteSegment(i, 0, 0, 0xFFFF, i == 1 ? 0x9BUL : 0x93UL);
            _vmx.WriteSegment(7, 0, 0, 0xFFFF, 0x8B);
            _vmx.Write(GuestGdtrBase, 0);
            _vmx.Write(GuestGdtrLimit, 0xFFFF);
            _vmx.Write(GuestIdtrBase, 0);
            _vmx.Write(GuestIdtrLimit, 0x3FF);
            _vmx.Write(GuestRip, RealGuestCode);
            _vmx.Write(GuestRsp, RealGuestStack);
        }

        /// <summary>64-bit mode: IA-32e mode guest and load IA32_EFER entry controls, paging with the guest's own tables (26.3.1.1).</summary>
        private void WriteLongGuest()
        {
            _vmx.WriteGuestControlRegister(GuestCr0, 0x80000031, Cr0Fixed0, Cr0Fixed1, exempt: 0);
            _vmx.WriteGuestControlRegister(GuestCr4, 0x20, Cr4Fixed0, Cr4Fixed1, exempt: 0);
            _vmx.Write(GuestCr3, GuestPml4);
            _vmx.Write(GuestEfer, 0x500);
            for (uint i = 0; i < 6; i++) _vmx.WriteSegment(i, i == 1 ? 0x08UL : 0x10UL, 0, 0xFFFFFFFF, i == 1 ? 0xA09BUL : 0xC093UL);
            _vmx.WriteSegment(7, 0x18, 0, 0x67, 0x8B);
            _vmx.Write(GuestGdtrBase, 0);
            _vmx.Write(GuestGdtrLimit, 0x1F);
            _vmx.Write(GuestIdtrBase, 0);
            _vmx.Write(GuestIdtrLimit, 0xFFF);
            _vmx.Write(GuestRip, LongGuestCode);
            _vmx.Write(GuestRsp, LongGuestStack);
        }

        private void ExitHandler()
        {
            var a = _a;
            var onCpuid = a.CreateLabel();
            var onHlt = a.CreateLabel();
            var onIo = a.CreateLabel();
            var onEpt = a.CreateLabel();
            var notHypervisorLeaf = a.CreateLabel();
            var allDone = a.CreateLabel();

            a.Label(ref _exitHandler);
            // A VM exit saves no guest GPRs (SDM vol. 3, 28.3): the handler keeps the ones it uses.
            a.mov(__qword_ptr[_savedRax], rax);
            a.mov(__qword_ptr[_savedRbx], rbx);
            a.mov(__qword_ptr[_savedRcx], rcx);
            a.mov(__qword_ptr[_savedRdx], rdx);
            a.mov(eax, ExitReason);
            a.vmread(r12, rax);
            a.mov(eax, ExitQualification);
            a.vmread(r13, rax);
            a.mov(eax, ExitInstructionLength);
            a.vmread(r14, rax);
            code.Print("exit ");
            a.mov(rax, r12);
            code.PrintHexCompact();
            code.Print(" ");
            a.cmp(r12d, ReasonCpuid);
            a.je(onCpuid);
            a.cmp(r12d, ReasonHlt);
            a.je(onHlt);
            a.cmp(r12d, ReasonIo);
            a.je(onIo);
            a.cmp(r12d, ReasonEptViolation);
            a.je(onEpt);
            code.Print("unexpected q ");
            a.mov(rax, r13);
            code.PrintHexCompact();
            code.Print("\n");
            a.jmp(_fail);

            // CPUID: the processor's answer, with the hypervisor leaf replaced by our signature.
            a.Label(ref onCpuid);
            code.Print("cpuid eax ");
            a.mov(rax, __qword_ptr[_savedRax]);
            code.PrintHexCompact();
            code.Print(" len ");
            a.mov(rax, r14);
            code.PrintHexCompact();
            code.Print("\n");
            a.mov(eax, __dword_ptr[_savedRax]);
            a.mov(ecx, __dword_ptr[_savedRcx]);
            a.cpuid();
            a.cmp(__dword_ptr[_savedRax], unchecked((int)HypervisorLeaf));
            a.jne(notHypervisorLeaf);
            a.mov(eax, HypervisorLeaf);
            a.mov(ebx, SignatureWord(0));
            a.mov(ecx, SignatureWord(1));
            a.mov(edx, SignatureWord(2));
            a.Label(ref notHypervisorLeaf);
            a.mov(__qword_ptr[_savedRax], rax);
            a.mov(__qword_ptr[_savedRbx], rbx);
            a.mov(__qword_ptr[_savedRcx], rcx);
            a.mov(__qword_ptr[_savedRdx], rdx);
            a.call(_advanceRip);
            a.jmp(_resume);

            // I/O: the qualification (SDM vol. 3, table 28-5) and the byte the guest wrote.
            a.Label(ref onIo);
            code.Print("io q ");
            a.mov(rax, r13);
            code.PrintHexCompact();
            code.Print(" data ");
            a.movzx(eax, __byte_ptr[_savedRax]);
            code.PrintHexCompact();
            code.Print(" len ");
            a.mov(rax, r14);
            code.PrintHexCompact();
            code.Print("\n");
            a.call(_advanceRip);
            a.jmp(_resume);

            // EPT violation: the guest RIP is the faulting instruction's (27.3.3); map the page (identity),
            // invalidate the EPT's cached translations, resume the same instruction.
            a.Label(ref onEpt);
            a.mov(eax, GuestPhysicalAddress);
            a.vmread(r15, rax);
            code.Print("ept gpa ");
            a.mov(rax, r15);
            code.PrintHexCompact();
            code.Print(" gla ");
            a.mov(eax, GuestLinearAddress);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            code.Print(" q ");
            a.mov(rax, r13);
            a.and(rax, ~(int)AdvancedInformation);
            code.PrintHexCompact();
            code.Print(" rip ");
            a.mov(eax, GuestRip);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            code.Print("\n");
            a.mov(rax, r15);
            a.shr(rax, 12);
            a.and(eax, 0x1FF);
            a.mov(rdi, EptPt);
            a.mov(rbx, r15);
            a.and(rbx, -0x1000);
            a.or(rbx, (int)EptPage);
            a.mov(__qword_ptr[rdi + rax * 8], rbx);
            a.mov(eax, EptPointer);
            a.vmread(rbx, rax);
            a.mov(__qword_ptr[_inveptDescriptor], rbx);
            a.mov(eax, 1);
            a.invept(rax, __xmmword_ptr[_inveptDescriptor]);
            a.jbe(_vmFail);
            a.jmp(_resume);

            // HLT: the first guest is done, launch the second; after it, leave VMX operation.
            a.Label(ref onHlt);
            code.Print("hlt len ");
            a.mov(rax, r14);
            code.PrintHexCompact();
            code.Print("\n");
            a.cmp(__qword_ptr[_guestNumber], 1);
            a.jne(allDone);
            a.mov(__qword_ptr[_guestNumber], 2);
            a.mov(__qword_ptr[_entryControls], 1 << 9 | 1 << 15);
            a.mov(rax, EptpAccessedDirty);
            a.mov(__qword_ptr[_eptPointer], rax);
            _vmx.LoadVmcs(_longVmcsPointer);
            a.call(_writeHostAndControls);
            WriteLongGuest();
            code.Print("launch long\n");
            a.vmlaunch();
            a.jmp(_vmFail);

            // The accessed and dirty flags the 64-bit guest left in the EPT leaves of its code, data and page directory.
            a.Label(ref allDone);
            code.Print("ad");
            foreach (var page in new[] { LongGuestCode, LongGuestUnmapped, LongGuestPageDirectory })
            {
                code.Print(" ");
                a.mov(rax, page);
                code.PrintHexCompact();
                code.Print(" ");
                a.mov(rdi, EptPt + (page >> 12 & 0x1FF) * 8);
                a.mov(rax, __qword_ptr[rdi]);
                a.and(eax, (int)(EptAccessed | EptDirty));
                code.PrintHexCompact();
            }
            code.Print("\n");
            a.vmxoff();
            a.jbe(_vmFail);
            code.Print("vmxoff\n");
            code.Exit();

            a.Label(ref _resume);
            a.mov(rax, __qword_ptr[_savedRax]);
            a.mov(rbx, __qword_ptr[_savedRbx]);
            a.mov(rcx, __qword_ptr[_savedRcx]);
            a.mov(rdx, __qword_ptr[_savedRdx]);
            a.vmresume();
            a.jmp(_vmFail);
        }

        private static int SignatureWord(int index) => BitConverter.ToInt32(Encoding.ASCII.GetBytes(Signature), index * 4);

        private void Data()
        {
            var a = _a;
            foreach (var (label, value) in new[]
                     {
                         (_savedRax, 0UL), (_savedRbx, 0UL), (_savedRcx, 0UL), (_savedRdx, 0UL), (_guestNumber, 0UL), (_entryControls, 0UL), (_eptPointer, 0UL),
                         (_realVmcsPointer, RealVmcs), (_longVmcsPointer, LongVmcs),
                     })
            {
                var l = label;
                a.Label(ref l);
                a.dq(value);
            }
            // The INVEPT descriptor is 128 bits: the EPTP, then reserved zeros (SDM vol. 3, 31.3, INVEPT).
            a.Label(ref _inveptDescriptor);
            a.dq(0UL);
            a.dq(0UL);
            _vmx.EmitData();
            code.EmitBlobs();
        }
    }
}
