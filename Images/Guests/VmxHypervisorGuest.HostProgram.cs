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
        private const int FeatureControl = 0x3A, VmxBasic = 0x480, PinControlsMsr = 0x481, ProcControlsMsr = 0x482,
            ExitControlsMsr = 0x483, EntryControlsMsr = 0x484, Cr0Fixed0 = 0x486, Cr0Fixed1 = 0x487, Cr4Fixed0 = 0x488,
            Cr4Fixed1 = 0x489, Proc2ControlsMsr = 0x48B, EptVpidCap = 0x48C, TrueControlsOffset = 0x48D - 0x481;

        // VMCS field encodings (SDM vol. 3, appendix B).
        private const uint GuestEsSelector = 0x800, HostEsSelector = 0xC00;
        private const uint EptPointer = 0x201A, GuestPhysicalAddress = 0x2400, VmcsLinkPointer = 0x2800, GuestDebugCtl = 0x2802, GuestEfer = 0x2806;
        private const uint PinControls = 0x4000, ProcControls = 0x4002, ExceptionBitmap = 0x4004, PfErrorMask = 0x4006, PfErrorMatch = 0x4008,
            Cr3TargetCount = 0x400A, ExitControls = 0x400C, ExitMsrStoreCount = 0x400E, ExitMsrLoadCount = 0x4010, EntryControls = 0x4012,
            EntryMsrLoadCount = 0x4014, EntryInterruptionInfo = 0x4016, Proc2Controls = 0x401E;
        private const uint InstructionError = 0x4400, ExitReason = 0x4402, ExitInstructionLength = 0x440C;
        private const uint GuestEsLimit = 0x4800, GuestGdtrLimit = 0x4810, GuestIdtrLimit = 0x4812, GuestEsAccessRights = 0x4814,
            GuestInterruptibility = 0x4824, GuestActivity = 0x4826, GuestSysenterCs = 0x482A, HostSysenterCs = 0x4C00;
        private const uint Cr0Mask = 0x6000, Cr4Mask = 0x6002, Cr0Shadow = 0x6004, Cr4Shadow = 0x6006;
        private const uint ExitQualification = 0x6400, GuestLinearAddress = 0x640A;
        private const uint GuestCr0 = 0x6800, GuestCr3 = 0x6802, GuestCr4 = 0x6804, GuestEsBase = 0x6806, GuestGdtrBase = 0x6816,
            GuestIdtrBase = 0x6818, GuestDr7 = 0x681A, GuestRsp = 0x681C, GuestRip = 0x681E, GuestRflags = 0x6820,
            GuestPendingDebug = 0x6822, GuestSysenterEsp = 0x6824, GuestSysenterEip = 0x6826;
        private const uint HostCr0 = 0x6C00, HostCr3 = 0x6C02, HostCr4 = 0x6C04, HostFsBase = 0x6C06, HostGsBase = 0x6C08,
            HostTrBase = 0x6C0A, HostGdtrBase = 0x6C0C, HostIdtrBase = 0x6C0E, HostSysenterEsp = 0x6C10, HostSysenterEip = 0x6C12,
            HostRsp = 0x6C14, HostRip = 0x6C16;

        // Secondary processor-based controls: enable EPT (1), unrestricted guest (7) (SDM vol. 3, table 25-7).
        private const int EnableEpt = 1, UnrestrictedGuest = 7;

        // IA32_VMX_EPT_VPID_CAP: 4-level walk (6), WB (14), INVEPT (20), A/D flags (21), single-context INVEPT (25) (SDM vol. 3, A.10).
        private const int EptWalk4 = 6, EptWriteBack = 14, Invept = 20, EptAccessedDirty = 21, InveptSingleContext = 25;

        private readonly Assembler _a = code.Asm;
        private Label _vmFail, _adjust, _advanceRip, _writeHostAndControls, _exitHandler, _resume, _fail;
        private Label _savedRax, _savedRbx, _savedRcx, _savedRdx, _guestNumber, _entryControls, _eptPointer, _gdtr,
            _vmxonPointer, _realVmcsPointer, _longVmcsPointer, _inveptDescriptor;

        private void CreateLabels()
        {
            var a = _a;
            _vmFail = a.CreateLabel();
            _adjust = a.CreateLabel();
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
            _gdtr = a.CreateLabel();
            _vmxonPointer = a.CreateLabel();
            _realVmcsPointer = a.CreateLabel();
            _longVmcsPointer = a.CreateLabel();
            _inveptDescriptor = a.CreateLabel();
        }

        public void Emit()
        {
            var a = _a;
            CreateLabels();
            code.InitSerial();
            EnableVmx();
            SetUpHostDescriptors();
            code.CopyBlob(RealGuest(), RealGuestCode);
            code.CopyBlob(LongGuest(), LongGuestCode);
            BuildEpt();
            BuildLongGuestPageTables();

            // The first guest: real mode under unrestricted guest.
            a.mov(__qword_ptr[_guestNumber], 1);
            a.mov(__qword_ptr[_entryControls], 0);
            a.mov(rax, Eptp);
            a.mov(__qword_ptr[_eptPointer], rax);
            LoadVmcs(_realVmcsPointer);
            a.call(_writeHostAndControls);
            WriteRealGuest();
            code.Print("launch real\n");
            a.vmlaunch();
            a.jmp(_vmFail);

            ExitHandler();
            Routines();
            Data();
        }



        /// <summary>A GDT with a 64-bit code, a data and a 64-bit TSS descriptor, and TR loaded: VM exits need a host TR (SDM vol. 3, 27.2.3).</summary>
        private void SetUpHostDescriptors()
        {
            var a = _a;
            code.ZeroPages(HostGdt, 2);
            a.mov(rdi, HostGdt);
            a.mov(rax, 0x00AF9B000000FFFFUL);
            a.mov(__qword_ptr[rdi + 8], rax);
            a.mov(rax, 0x00CF93000000FFFFUL);
            a.mov(__qword_ptr[rdi + 16], rax);
            // Available 64-bit TSS (type 9), limit 0x67, base HostTss.
            a.mov(rax, 0x67UL | ((HostTss & 0xFFFFFF) << 16) | (0x89UL << 40) | ((HostTss >> 24 & 0xFF) << 56));
            a.mov(__qword_ptr[rdi + 24], rax);
            a.mov(rax, HostTss >> 32);
            a.mov(__qword_ptr[rdi + 32], rax);
            a.lgdt(__[_gdtr]);
            // CS still holds the payload's 64-bit selector 18H; a far return reloads it from this GDT.
            var reloaded = a.CreateLabel();
            a.push(0x08);
            a.lea(rax, __[reloaded]);
            a.push(rax);
            a.AddInstruction(Instruction.Create(Code.Retfq));
            a.Label(ref reloaded);
            a.mov(eax, 0x10);
            a.mov(ds, ax);
            a.mov(es, ax);
            a.mov(ss, ax);
            a.mov(fs, ax);
            a.mov(gs, ax);
            a.mov(eax, 0x18);
            a.ltr(ax);
        }

        private void EnableVmx()
        {
            var a = _a;
            var haveVmx = a.CreateLabel();
            var featureControlReady = a.CreateLabel();
            var locked = a.CreateLabel();

            // CPUID.1:ECX.VMX[bit 5] (SDM vol. 3, 24.6).
            a.mov(eax, 1);
            a.cpuid();
            a.bt(ecx, 5);
            a.jc(haveVmx);
            code.Print(NoVmxOutput);
            a.jmp(_fail);
            a.Label(ref haveVmx);

            // IA32_FEATURE_CONTROL: lock it with VMXON outside SMX enabled unless firmware locked it (SDM vol. 3, 24.7).
            a.mov(ecx, FeatureControl);
            a.rdmsr();
            a.test(al, 1);
            a.jnz(locked);
            a.or(eax, 5);
            a.wrmsr();
            a.jmp(featureControlReady);
            a.Label(ref locked);
            a.test(al, 4);
            a.jnz(featureControlReady);
            code.Print("VMX disabled by firmware\n");
            a.jmp(_fail);
            a.Label(ref featureControlReady);

            // What the program needs beyond basic VMX: the secondary controls, EPT with unrestricted
            // guest, and an EPT with 4-level WB tables, A/D flags and single-context INVEPT (A.3.2, A.3.3, A.10).
            RequireControl(ProcControlsMsr, 32 + 31, "no secondary controls\n");
            RequireControl(Proc2ControlsMsr, 32 + EnableEpt, "no EPT\n");
            RequireControl(Proc2ControlsMsr, 32 + UnrestrictedGuest, "no unrestricted guest\n");
            foreach (var (bit, what) in new[] { (EptWalk4, "4-level walk"), (EptWriteBack, "WB"), (Invept, "INVEPT"), (EptAccessedDirty, "A/D"), (InveptSingleContext, "single-context INVEPT") })
                RequireControl(EptVpidCap, bit, $"no EPT {what}\n");

            // CR0 and CR4 as the fixed-bit MSRs require, with CR4.VMXE (SDM vol. 3, 24.8, A.7, A.8).
            ReadMsr64(Cr0Fixed0, r8);
            ReadMsr64(Cr0Fixed1, r9);
            a.mov(rax, cr0);
            a.or(rax, r8);
            a.and(rax, r9);
            a.mov(cr0, rax);
            ReadMsr64(Cr4Fixed0, r8);
            ReadMsr64(Cr4Fixed1, r9);
            a.mov(rax, cr4);
            a.or(rax, 0x2000);
            a.or(rax, r8);
            a.and(rax, r9);
            a.mov(cr4, rax);

            // The VMCS revision identifier, IA32_VMX_BASIC bits 30:0, heads the VMXON region and each VMCS (24.2, 24.11.5).
            code.ZeroPages(VmxonRegion, 3);
            a.mov(ecx, VmxBasic);
            a.rdmsr();
            a.and(eax, 0x7FFFFFFF);
            a.mov(rdi, VmxonRegion);
            a.mov(__dword_ptr[rdi], eax);
            a.mov(rdi, RealVmcs);
            a.mov(__dword_ptr[rdi], eax);
            a.mov(rdi, LongVmcs);
            a.mov(__dword_ptr[rdi], eax);

            a.vmxon(__qword_ptr[_vmxonPointer]);
            a.jbe(_vmFail);
            code.Print("vmxon\n");
        }

        /// <summary>Fails with <paramref name="message"/> unless bit <paramref name="bit"/> of the 64-bit MSR is set.</summary>
        private void RequireControl(int msr, int bit, string message)
        {
            var a = _a;
            var present = a.CreateLabel();
            ReadMsr64(msr, rax);
            a.bt(rax, (byte)bit);
            a.jc(present);
            code.Print(message);
            a.jmp(_fail);
            a.Label(ref present);
        }

        /// <summary>EDX:EAX of an MSR into a 64-bit register.</summary>
        private void ReadMsr64(int msr, AssemblerRegister64 into)
        {
            var a = _a;
            a.mov(ecx, msr);
            a.rdmsr();
            a.shl(rdx, 32);
            a.mov(eax, eax);
            a.or(rax, rdx);
            a.mov(into, rax);
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

        private void LoadVmcs(Label pointer)
        {
            var a = _a;
            a.vmclear(__qword_ptr[pointer]);
            a.jbe(_vmFail);
            a.vmptrld(__qword_ptr[pointer]);
            a.jbe(_vmFail);
        }

        /// <summary>VMWRITE of a constant; a VMfail (CF or ZF set, SDM vol. 3, 31.2) goes to the failure report.</summary>
        private void Write(uint field, ulong value)
        {
            _a.mov(rbx, value);
            WriteRbx(field);
        }

        private void WriteRbx(uint field)
        {
            var a = _a;
            a.mov(eax, field);
            a.vmwrite(rax, rbx);
            a.jbe(_vmFail);
        }

        /// <summary>RBX = the desired controls adjusted by a capability MSR: allowed-0 settings in its low half, allowed-1 in its high half (SDM vol. 3, A.3-A.5).</summary>
        private void Adjust(ulong desired, int msr, bool trueMsrs)
        {
            var a = _a;
            a.mov(rbx, desired);
            a.mov(ecx, msr);
            if (trueMsrs) a.add(ecx, r10d);
            a.call(_adjust);
        }

        private void Routines()
        {
            var a = _a;

            a.Label(ref _adjust);
            a.rdmsr();
            a.or(ebx, eax);
            a.and(ebx, edx);
            a.ret();

            // Host state and controls common to both guests (SDM vol. 3, 24.5-24.8, 26.2).
            a.Label(ref _writeHostAndControls);
            {
                var noTrue = a.CreateLabel();
                a.xor(r10d, r10d);
                a.mov(ecx, VmxBasic);
                a.rdmsr();
                // IA32_VMX_BASIC bit 55: the TRUE_*_CTLS MSRs report the controls' default-1 settings that may be cleared.
                a.bt(edx, 55 - 32);
                a.jnc(noTrue);
                a.mov(r10d, TrueControlsOffset);
                a.Label(ref noTrue);

                Adjust(0, PinControlsMsr, true);
                WriteRbx(PinControls);
                // HLT exiting (7), unconditional I/O exiting (24), activate secondary controls (31).
                Adjust(1UL << 7 | 1UL << 24 | 1UL << 31, ProcControlsMsr, true);
                WriteRbx(ProcControls);
                Adjust(1UL << EnableEpt | 1UL << UnrestrictedGuest, Proc2ControlsMsr, false);
                WriteRbx(Proc2Controls);
                // Host address-space size (9): the host runs in 64-bit mode.
                Adjust(1UL << 9, ExitControlsMsr, true);
                WriteRbx(ExitControls);
                a.mov(rbx, __qword_ptr[_entryControls]);
                a.mov(ecx, EntryControlsMsr);
                a.add(ecx, r10d);
                a.call(_adjust);
                WriteRbx(EntryControls);
                foreach (var field in new[] { ExceptionBitmap, PfErrorMask, PfErrorMatch, Cr3TargetCount, ExitMsrStoreCount, ExitMsrLoadCount, EntryMsrLoadCount, EntryInterruptionInfo })
                    Write(field, 0);
                foreach (var field in new[] { Cr0Mask, Cr4Mask, Cr0Shadow, Cr4Shadow })
                    Write(field, 0);
                a.mov(rbx, __qword_ptr[_eptPointer]);
                WriteRbx(EptPointer);

                a.mov(rbx, cr0);
                WriteRbx(HostCr0);
                a.mov(rbx, cr3);
                WriteRbx(HostCr3);
                a.mov(rbx, cr4);
                WriteRbx(HostCr4);
                for (uint i = 0; i < 6; i++) Write(HostEsSelector + 2 * i, i == 1 ? 0x08UL : 0x10UL);
                Write(HostEsSelector + 12, 0x18);
                Write(HostFsBase, 0);
                Write(HostGsBase, 0);
                Write(HostTrBase, HostTss);
                Write(HostGdtrBase, HostGdt);
                Write(HostIdtrBase, 0);
                Write(HostSysenterCs, 0);
                Write(HostSysenterEsp, 0);
                Write(HostSysenterEip, 0);
                Write(HostRsp, ExitStack);
                a.lea(rbx, __[_exitHandler]);
                WriteRbx(HostRip);

                // Guest state both guests share (26.3.1).
                Write(VmcsLinkPointer, ulong.MaxValue);
                Write(GuestDebugCtl, 0);
                Write(GuestDr7, 0x400);
                Write(GuestRflags, 2);
                Write(GuestPendingDebug, 0);
                Write(GuestInterruptibility, 0);
                Write(GuestActivity, 0);
                Write(GuestSysenterCs, 0);
                Write(GuestSysenterEsp, 0);
                Write(GuestSysenterEip, 0);
                // LDTR unusable (access-rights bit 16).
                WriteSegment(6, 0, 0, 0, 0x10000);
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

        /// <summary>A guest segment register by index (ES, CS, SS, DS, FS, GS, LDTR, TR): selector, base, limit, access rights.</summary>
        private void WriteSegment(uint index, ulong selector, ulong @base, ulong limit, ulong accessRights)
        {
            Write(GuestEsSelector + 2 * index, selector);
            Write(GuestEsBase + 2 * index, @base);
            Write(GuestEsLimit + 2 * index, limit);
            Write(GuestEsAccessRights + 2 * index, accessRights);
        }

        /// <summary>CR0 or CR4 for a guest: the wanted bits with the fixed-1 bits set and fixed-0 bits clear, except what <paramref name="exempt"/> frees.</summary>
        private void WriteGuestControlRegister(uint field, ulong wanted, int fixed0, int fixed1, ulong exempt)
        {
            var a = _a;
            ReadMsr64(fixed0, rbx);
            a.mov(rax, ~exempt);
            a.and(rbx, rax);
            a.mov(rax, wanted);
            a.or(rbx, rax);
            ReadMsr64(fixed1, rax);
            a.and(rbx, rax);
            WriteRbx(field);
        }

        /// <summary>Real mode: with unrestricted guest CR0.PE and CR0.PG may be 0 (SDM vol. 3, 26.3.1.1).</summary>
        private void WriteRealGuest()
        {
            WriteGuestControlRegister(GuestCr0, 0x30, Cr0Fixed0, Cr0Fixed1, exempt: 0x80000001);
            WriteGuestControlRegister(GuestCr4, 0, Cr4Fixed0, Cr4Fixed1, exempt: 0);
            Write(GuestCr3, 0);
            for (uint i = 0; i < 6; i++) WriteSegment(i, 0, 0, 0xFFFF, i == 1 ? 0x9BUL : 0x93UL);
            WriteSegment(7, 0, 0, 0xFFFF, 0x8B);
            Write(GuestGdtrBase, 0);
            Write(GuestGdtrLimit, 0xFFFF);
            Write(GuestIdtrBase, 0);
            Write(GuestIdtrLimit, 0x3FF);
            Write(GuestRip, RealGuestCode);
            Write(GuestRsp, RealGuestStack);
        }

        /// <summary>64-bit mode: IA-32e mode guest and load IA32_EFER entry controls, paging with the guest's own tables (26.3.1.1).</summary>
        private void WriteLongGuest()
        {
            WriteGuestControlRegister(GuestCr0, 0x80000031, Cr0Fixed0, Cr0Fixed1, exempt: 0);
            WriteGuestControlRegister(GuestCr4, 0x20, Cr4Fixed0, Cr4Fixed1, exempt: 0);
            Write(GuestCr3, GuestPml4);
            Write(GuestEfer, 0x500);
            for (uint i = 0; i < 6; i++) WriteSegment(i, i == 1 ? 0x08UL : 0x10UL, 0, 0xFFFFFFFF, i == 1 ? 0xA09BUL : 0xC093UL);
            WriteSegment(7, 0x18, 0, 0x67, 0x8B);
            Write(GuestGdtrBase, 0);
            Write(GuestGdtrLimit, 0x1F);
            Write(GuestIdtrBase, 0);
            Write(GuestIdtrLimit, 0xFFF);
            Write(GuestRip, LongGuestCode);
            Write(GuestRsp, LongGuestStack);
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
            LoadVmcs(_longVmcsPointer);
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
                         (_vmxonPointer, VmxonRegion), (_realVmcsPointer, RealVmcs), (_longVmcsPointer, LongVmcs),
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
            // LGDT operand: limit, then base (SDM vol. 3, 3.5.1).
            a.Label(ref _gdtr);
            a.dw((ushort)39);
            a.dq(HostGdt);
            code.EmitBlobs();
        }
    }
}
