using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

public sealed partial class VmxProbeGuest
{
    /// <summary>The probe itself, emitted into the payload's 64-bit program.</summary>
    private sealed class HostProgram(GuestCode code, IReadOnlyList<IReadOnlyList<Write>> cases)
    {
        // VMCS field encodings (SDM vol. 3, appendix B).
        private const uint HostEsSelector = 0xC00;
        private const uint IoBitmapA = 0x2000, IoBitmapB = 0x2002, VirtualApicAddress = 0x2012, TprThreshold = 0x401C;
        private const uint MsrBitmapAddress = 0x2004, ExitMsrStoreAddress = 0x2006, ExitMsrLoadAddress = 0x2008, EntryMsrLoadAddress = 0x200A,
            EptPointer = 0x201A, VmcsLinkPointer = 0x2800, GuestDebugCtl = 0x2802, GuestPat = 0x2804, GuestEfer = 0x2806,
            HostPat = 0x2C00, HostEfer = 0x2C02;
        private const uint PinControls = 0x4000, ProcControls = 0x4002, ExceptionBitmap = 0x4004, PfErrorMask = 0x4006, PfErrorMatch = 0x4008,
            Cr3TargetCount = 0x400A, ExitControls = 0x400C, ExitMsrStoreCount = 0x400E, ExitMsrLoadCount = 0x4010, EntryControls = 0x4012,
            EntryMsrLoadCount = 0x4014, EntryInterruptionInfo = 0x4016, EntryExceptionErrorCode = 0x4018, EntryInstructionLength = 0x401A,
            Proc2Controls = 0x401E;
        private const uint InstructionError = 0x4400, ExitReason = 0x4402, ExitInterruptionInfo = 0x4404;
        private const uint GuestGdtrLimit = 0x4810, GuestIdtrLimit = 0x4812, GuestInterruptibility = 0x4824, GuestActivity = 0x4826,
            GuestSysenterCs = 0x482A, PreemptionTimer = 0x482E, HostSysenterCs = 0x4C00;
        private const uint Cr0Mask = 0x6000, Cr4Mask = 0x6002, Cr0Shadow = 0x6004, Cr4Shadow = 0x6006;
        private const uint ExitQualification = 0x6400;
        private const uint GuestCr0 = 0x6800, GuestCr3 = 0x6802, GuestCr4 = 0x6804, GuestGdtrBase = 0x6816, GuestIdtrBase = 0x6818,
            GuestDr7 = 0x681A, GuestRspField = 0x681C, GuestRipField = 0x681E, GuestRflags = 0x6820, GuestPendingDebug = 0x6822,
            GuestSysenterEsp = 0x6824, GuestSysenterEip = 0x6826;
        private const uint HostCr0 = 0x6C00, HostCr3 = 0x6C02, HostCr4 = 0x6C04, HostFsBase = 0x6C06, HostGsBase = 0x6C08,
            HostTrBase = 0x6C0A, HostGdtrBase = 0x6C0C, HostIdtrBase = 0x6C0E, HostSysenterEsp = 0x6C10, HostSysenterEip = 0x6C12,
            HostRsp = 0x6C14, HostRip = 0x6C16;

        private const ulong ExitStack = 0x470000;

        private const uint SysenterCsMsr = 0x174, FsBaseMsr = 0xC0000100;

        // Controls the baseline asks for (SDM vol. 3, tables 25-5, 25-6, 25-13, 25-15): the VMX-preemption timer (6),
        // HLT exiting (7), unconditional I/O exiting (24), the secondary controls (31); a 64-bit host (9); an IA-32e mode guest (9).
        private const ulong PinWanted = 1 << 6, ProcWanted = 1 << 7 | 1 << 24 | 1UL << 31, ExitWanted = 1 << 9, EntryWanted = 1 << 9;

        private const ulong Pat = 0x0007040600070406;

        /// <summary>IA32_EFER of a 64-bit host and guest: LME and LMA (SDM vol. 3, 2.2.1).</summary>
        private const ulong LongModeEfer = 0x500;

        private readonly Assembler _a = code.Asm;
        private VmxSetup _vmx = null!;
        private Label _vmFail, _fail, _baseline, _exitHandler, _nextCase, _advance, _done;
        private Label _vmcsPointer, _caseTable, _casePointer, _caseEnd, _caseIndex, _hostCr0, _hostCr3, _hostCr4;

        public void Emit()
        {
            var a = _a;
            _vmFail = a.CreateLabel();
            _fail = a.CreateLabel();
            _baseline = a.CreateLabel();
            _exitHandler = a.CreateLabel();
            _nextCase = a.CreateLabel();
            _advance = a.CreateLabel();
            _done = a.CreateLabel();
            _vmcsPointer = a.CreateLabel();
            _caseTable = a.CreateLabel();
            _casePointer = a.CreateLabel();
            _caseEnd = a.CreateLabel();
            _caseIndex = a.CreateLabel();
            _hostCr0 = a.CreateLabel();
            _hostCr3 = a.CreateLabel();
            _hostCr4 = a.CreateLabel();

            code.InitSerial();
            code.MaskPic();
            _vmx = new VmxSetup(code, _vmFail, _fail);
            _vmx.EnableVmx("no VMX\n", VmxonRegion, Vmcs);
            _vmx.SetUpHostDescriptors(HostGdt, HostTss);
            PrintCapabilities();

            // The guest's page of HLTs, and zeroed pages behind the MSR areas and the EPT.
            a.mov(rdi, GuestCodePage);
            a.mov(ecx, 4096);
            a.mov(al, 0xF4);
            a.rep.stosb();
            code.ZeroPages(MsrArea, 4);
            // The VM-entry MSR-load list: IA32_SYSENTER_CS three times, then IA32_FS_BASE, which the list may not load (SDM vol. 3, 26.4),
            // so a count of 1-3 loads and a larger one fails at entry 4 rather than on whatever a model lets WRMSR do with MSR 0.
            for (var i = 0; i < 4; i++)
                a.mov(__dword_ptr[MsrArea + (ulong)i * 16], i < 3 ? SysenterCsMsr : FsBaseMsr);
            code.ZeroPages(EptPml4, 1);

            // The host's control registers once, so that a case whose host state a VM exit loaded does not leak into the next baseline.
            foreach (var (register, label) in new[] { (cr0, _hostCr0), (cr3, _hostCr3), (cr4, _hostCr4) })
            {
                a.mov(rax, register);
                a.mov(__qword_ptr[label], rax);
            }
            a.lea(rax, __[_caseTable]);
            a.add(rax, 8);
            a.mov(__qword_ptr[_casePointer], rax);
            a.mov(__qword_ptr[_caseIndex], 0);

            CaseLoop();
            ExitHandler();
            Baseline();

            a.Label(ref _done);
            code.Print("done\n");
            a.vmxoff();
            code.Exit();

            // VMfailInvalid (CF) or VMfailValid (ZF) where the probe itself needs success (SDM vol. 3, 31.4).
            a.Label(ref _vmFail);
            code.Print("vmfail ");
            a.mov(eax, InstructionError);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            code.Print("\n");
            a.Label(ref _fail);
            code.Fail(FailureStatus);

            _vmx.EmitRoutines();
            Data();
        }

        private void PrintCapabilities()
        {
            var a = _a;
            var noTrue = a.CreateLabel();
            void Print(int msr)
            {
                code.Print($"cap {msr:x} ");
                _vmx.ReadMsr64(msr, rax);
                code.PrintHexCompact();
                code.Print("\n");
            }
            // CPUID.80000008H:EAX[7:0], the physical-address width that the address checks use.
            code.Print("cap 80000008 ");
            a.mov(eax, 0x80000008);
            a.cpuid();
            a.mov(eax, eax);
            code.PrintHexCompact();
            code.Print("\n");
            foreach (var msr in CapabilityMsrs) Print(msr);
            _vmx.ReadMsr64(VmxSetup.VmxBasic, rax);
            a.bt(rax, 55);
            a.jnc(noTrue);
            foreach (var msr in TrueControlMsrs) Print(msr);
            a.Label(ref noTrue);
        }

        /// <summary>One case: "INDEX ", the baseline, the case's VMWRITEs, VMLAUNCH and what it reported.</summary>
        private void CaseLoop()
        {
            var a = _a;
            var writeLoop = a.CreateLabel();
            var launch = a.CreateLabel();
            var writeFailed = a.CreateLabel();
            var writeInvalid = a.CreateLabel();
            var invalid = a.CreateLabel();

            a.Label(ref _nextCase);
            a.mov(rax, __qword_ptr[_caseIndex]);
            a.cmp(rax, __qword_ptr[_caseTable]);
            a.jae(_done);
            code.PrintHexCompact();
            code.Print(" ");
            _vmx.LoadVmcs(_vmcsPointer);
            a.call(_baseline);

            // The case: a count of writes, then (field, value) pairs; the next case follows.
            a.mov(rsi, __qword_ptr[_casePointer]);
            a.mov(r13, __qword_ptr[rsi]);
            a.add(rsi, 8);
            a.mov(rax, r13);
            a.shl(rax, 4);
            a.add(rax, rsi);
            a.mov(__qword_ptr[_caseEnd], rax);
            a.xor(r14d, r14d);
            a.Label(ref writeLoop);
            a.cmp(r14, r13);
            a.jae(launch);
            a.mov(rax, __qword_ptr[rsi]);
            a.mov(rbx, __qword_ptr[rsi + 8]);
            a.vmwrite(rax, rbx);
            a.jbe(writeFailed);
            a.add(rsi, 16);
            a.inc(r14);
            a.jmp(writeLoop);

            a.Label(ref launch);
            a.vmlaunch();
            a.jc(invalid);
            code.Print("valid ");
            a.mov(eax, InstructionError);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            code.Print("\n");
            a.jmp(_advance);
            a.Label(ref invalid);
            code.Print("invalid\n");
            a.jmp(_advance);

            a.Label(ref writeFailed);
            a.jc(writeInvalid);
            code.Print("vmwrite ");
            a.mov(rax, r14);
            code.PrintHexCompact();
            code.Print(" fail ");
            a.mov(eax, InstructionError);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            code.Print("\n");
            a.jmp(_advance);
            a.Label(ref writeInvalid);
            code.Print("vmwrite invalid\n");

            a.Label(ref _advance);
            a.mov(rax, __qword_ptr[_caseEnd]);
            a.mov(__qword_ptr[_casePointer], rax);
            a.inc(__qword_ptr[_caseIndex]);
            a.jmp(_nextCase);
        }

        /// <summary>A VM exit or a VM-entry failure (host state loaded, SDM vol. 3, 26.8 and 28.5): reason, qualification, and for an exception or NMI the interruption information.</summary>
        private void ExitHandler()
        {
            var a = _a;
            var line = a.CreateLabel();
            a.Label(ref _exitHandler);
            code.Print("exit ");
            a.mov(eax, ExitReason);
            a.vmread(r12, rax);
            a.mov(rax, r12);
            code.PrintHexCompact();
            code.Print(" q ");
            a.mov(eax, ExitQualification);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            a.test(r12d, 0xFFFF);
            a.jnz(line);
            code.Print(" info ");
            a.mov(eax, ExitInterruptionInfo);
            a.vmread(rax, rax);
            code.PrintHexCompact();
            a.Label(ref line);
            code.Print("\n");
            a.jmp(_advance);
        }

        /// <summary>The valid baseline every case starts from (SDM vol. 3, 26.2-26.3): controls from the capability MSRs, the host's own state, a flat 64-bit guest.</summary>
        private void Baseline()
        {
            var a = _a;
            var v = _vmx;
            a.Label(ref _baseline);
            v.SelectTrueControls();
            v.Adjust(PinWanted, VmxSetup.PinControlsMsr, true);
            v.WriteRbx(PinControls);
            v.Adjust(ProcWanted, VmxSetup.ProcControlsMsr, true);
            v.WriteRbx(ProcControls);
            v.Adjust(0, VmxSetup.Proc2ControlsMsr, false);
            v.WriteRbx(Proc2Controls);
            v.Adjust(ExitWanted, VmxSetup.ExitControlsMsr, true);
            v.WriteRbx(ExitControls);
            v.Adjust(EntryWanted, VmxSetup.EntryControlsMsr, true);
            v.WriteRbx(EntryControls);
            v.Write(ExceptionBitmap, 0xFFFFFFFF);
            foreach (var field in new[] { PfErrorMask, PfErrorMatch, Cr3TargetCount, ExitMsrStoreCount, ExitMsrLoadCount, EntryMsrLoadCount,
                         EntryInterruptionInfo, EntryExceptionErrorCode, EntryInstructionLength, Cr0Mask, Cr4Mask, Cr0Shadow, Cr4Shadow, TprThreshold })
                v.Write(field, 0);
            // Every address a control can bring into use points at zeroed pages, the same on every machine.
            foreach (var field in new[] { MsrBitmapAddress, ExitMsrStoreAddress, ExitMsrLoadAddress, EntryMsrLoadAddress, IoBitmapA, IoBitmapB, VirtualApicAddress })
                v.Write(field, MsrArea);
            v.Write(EptPointer, Eptp);
            v.Write(PreemptionTimer, PreemptionTimerValue);

            foreach (var (field, label) in new[] { (HostCr0, _hostCr0), (HostCr3, _hostCr3), (HostCr4, _hostCr4), (GuestCr0, _hostCr0), (GuestCr3, _hostCr3), (GuestCr4, _hostCr4) })
            {
                a.mov(rbx, __qword_ptr[label]);
                v.WriteRbx(field);
            }
            for (uint i = 0; i < 6; i++) v.Write(HostEsSelector + 2 * i, i == 1 ? 0x08UL : 0x10UL);
            v.Write(HostEsSelector + 12, 0x18);
            v.Write(HostFsBase, 0);
            v.Write(HostGsBase, 0);
            v.Write(HostTrBase, HostTss);
            v.Write(HostGdtrBase, HostGdt);
            v.Write(HostIdtrBase, 0);
            v.Write(HostSysenterCs, 0);
            v.Write(HostSysenterEsp, 0);
            v.Write(HostSysenterEip, 0);
            v.Write(HostPat, Pat);
            v.Write(HostEfer, LongModeEfer);
            v.Write(HostRsp, ExitStack);
            a.lea(rbx, __[_exitHandler]);
            v.WriteRbx(HostRip);

            for (uint i = 0; i < 6; i++) v.WriteSegment(i, i == 1 ? 0x08UL : 0x10UL, 0, 0xFFFFFFFF, i == 1 ? 0xA09BUL : 0xC093UL);
            // LDTR unusable (access-rights bit 16); TR the host's busy 64-bit TSS.
            v.WriteSegment(6, 0, 0, 0, 0x10000);
            v.WriteSegment(7, 0x18, HostTss, 0x67, 0x8B);
            v.Write(GuestGdtrBase, HostGdt);
            v.Write(GuestGdtrLimit, 0x27);
            v.Write(GuestIdtrBase, 0);
            v.Write(GuestIdtrLimit, 0);
            v.Write(VmcsLinkPointer, ulong.MaxValue);
            v.Write(GuestDebugCtl, 0);
            v.Write(GuestPat, Pat);
            v.Write(GuestEfer, LongModeEfer);
            v.Write(GuestDr7, 0x400);
            v.Write(GuestRflags, 2);
            v.Write(GuestRspField, GuestStack);
            v.Write(GuestRipField, GuestRip);
            v.Write(GuestPendingDebug, 0);
            v.Write(GuestInterruptibility, 0);
            v.Write(GuestActivity, 0);
            v.Write(GuestSysenterCs, 0);
            v.Write(GuestSysenterEsp, 0);
            v.Write(GuestSysenterEip, 0);
            a.ret();
        }

        private void Data()
        {
            var a = _a;
            foreach (var (label, value) in new[] { (_vmcsPointer, Vmcs), (_casePointer, 0UL), (_caseEnd, 0UL), (_caseIndex, 0UL), (_hostCr0, 0UL), (_hostCr3, 0UL), (_hostCr4, 0UL) })
            {
                var l = label;
                a.Label(ref l);
                a.dq(value);
            }
            _vmx.EmitData();
            a.Label(ref _caseTable);
            a.dq((ulong)cases.Count);
            foreach (var c in cases)
            {
                a.dq((ulong)c.Count);
                foreach (var w in c)
                {
                    a.dq(w.Field);
                    a.dq(w.Value);
                }
            }
            code.EmitBlobs();
        }
    }
}
