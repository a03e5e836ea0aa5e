using Iced.Intel;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Svm;

/// <summary>
/// The intercept checks while a guest runs (AMD APM vol. 2, 15.7–15.14, 15.21, 15.25) and the
/// EXITINFO1/EXITINFO2 each exit code carries (appendix C, 15.33 decode assists).
/// </summary>
public sealed partial class SvmUnit
{
    private bool GuestIntercept(in Intercept e)
    {
        var c = _vmcbState;
        switch (e.Kind)
        {
            case InterceptKind.Cpuid: return Instruction(SvmIntercept.Cpuid, SvmExitCode.Cpuid);
            case InterceptKind.Hlt: return Instruction(SvmIntercept.Hlt, SvmExitCode.Hlt);
            case InterceptKind.Invlpg: return Instruction(SvmIntercept.Invlpg, SvmExitCode.Invlpg, e.LinearAddress);
            case InterceptKind.Rdtsc: return Instruction(SvmIntercept.Rdtsc, SvmExitCode.Rdtsc);
            case InterceptKind.Rdtscp: return Instruction(SvmIntercept.Rdtscp, SvmExitCode.Rdtscp);
            case InterceptKind.Rdpmc: return Instruction(SvmIntercept.Rdpmc, SvmExitCode.Rdpmc);
            case InterceptKind.Rdmsr or InterceptKind.Wrmsr:
            {
                var write = e.Kind == InterceptKind.Wrmsr;
                if (!c.Intercepts(SvmIntercept.MsrProt) || !MsrIntercepted(e.Msr.Index, write)) return false;
                ExitForInstruction(SvmExitCode.Msr, write ? 1UL : 0UL, 0);
                return true;
            }
            case InterceptKind.IoIn or InterceptKind.IoOut:
                return IoIntercept(e.Io.In, e.Io.Port, e.Io.Size, e.Io.String);
            case InterceptKind.CrRead:
            {
                var read = e.ControlRegisterRead;
                var cr = read.Register & 0xF;
                if ((c.InterceptCr & (1u << cr)) == 0) return false;
                // Decode assists: MOV from CRn sets bit 63 with the GPR; SMSW provides nothing (15.8.1).
                ExitForInstruction(SvmExitCode.CrRead + (ulong)cr, read.Smsw ? 0 : (1UL << 63) | ((ulong)read.Gpr & 0xF), 0);
                return true;
            }
            case InterceptKind.CrWrite: return CrWriteIntercept(e.ControlRegisterWrite);
            case InterceptKind.DrAccess:
            {
                // The APM checks an instruction intercept after the instruction's own privilege and #UD faults.
                var access = e.DebugRegisterAccess;
                if (access.FaultsIfDeclined) return false;
                var dr = access.Register & 0xF;
                var write = access.Write;
                if ((c.InterceptDr & (1u << (dr + (write ? 16 : 0)))) == 0) return false;
                ExitForInstruction((write ? SvmExitCode.DrWrite : SvmExitCode.DrRead) + (ulong)dr, (ulong)access.Gpr & 0xF, 0);
                return true;
            }
            case InterceptKind.Pause: return PauseIntercept();
            case InterceptKind.Wbinvd: return Instruction(SvmIntercept.Wbinvd, SvmExitCode.Wbinvd);
            case InterceptKind.Invd: return Instruction(SvmIntercept.Invd, SvmExitCode.Invd);
            case InterceptKind.Xsetbv: return Instruction(SvmIntercept.Xsetbv, SvmExitCode.Xsetbv);
            case InterceptKind.Monitor: return Instruction(SvmIntercept.Monitor, SvmExitCode.Monitor);
            case InterceptKind.Mwait: return Instruction(SvmIntercept.Mwait, SvmExitCode.Mwait);
            case InterceptKind.Pushf: return Instruction(SvmIntercept.Pushf, SvmExitCode.Pushf);
            case InterceptKind.Popf: return Instruction(SvmIntercept.Popf, SvmExitCode.Popf);
            case InterceptKind.Iret: return Instruction(SvmIntercept.Iret, SvmExitCode.Iret);
            case InterceptKind.Rsm: return Instruction(SvmIntercept.Rsm, SvmExitCode.Rsm);
            case InterceptKind.Icebp: return Instruction(SvmIntercept.Icebp, SvmExitCode.Icebp);
            case InterceptKind.SoftwareInterrupt: return Instruction(SvmIntercept.Intn, SvmExitCode.Swint, e.Vector);
            case InterceptKind.Invpcid:
                if (!c.Intercepts(SvmIntercept.Invpcid)) return false;
                ExitForInstruction(SvmExitCode.Invpcid, _cpu.OperandLinearAddress(), e.InvpcidType);
                return true;
            case InterceptKind.DescriptorTable: return DescriptorTableIntercept();
            case InterceptKind.Exception: return ExceptionIntercept(e.Exception);
            case InterceptKind.ExternalInterrupt:
                // Under V_INTR_MASKING the host's IF, not the guest's, masks physical interrupts (15.21.1):
                // a masked INTR stays pending, neither taken nor intercepted.
                if (PhysicalInterruptMasked) return true;
                if (!c.Intercepts(SvmIntercept.Intr)) return false;
                VmExit(SvmExitCode.Intr, 0, 0, 0);
                return true;
            case InterceptKind.Nmi:
                if (!c.Intercepts(SvmIntercept.Nmi)) return false;
                // The NMI stays pending for the host, which takes it once GIF is set again.
                _cpu.NmiPending = true;
                VmExit(SvmExitCode.Nmi, 0, 0, 0);
                return true;
            case InterceptKind.Init:
                if (!c.Intercepts(SvmIntercept.Init)) return false;
                // Like an intercepted NMI, the INIT stays pending; the #VMEXIT clears GIF, which holds it for the host.
                _cpu.RaiseInit();
                VmExit(SvmExitCode.Init, 0, 0, 0);
                return true;
            case InterceptKind.TripleFault:
                if (!c.Intercepts(SvmIntercept.Shutdown)) return false;
                VmExit(SvmExitCode.Shutdown, 0, 0, 0);
                return true;
            case InterceptKind.TaskSwitch: return TaskSwitchIntercept(e.TaskSwitch);
            case InterceptKind.SecondLevelFault:
            {
                if (_npt == null || !c.NpEnable) return false;
                var fault = _npt.LastFault;
                VmExit(SvmExitCode.Npf, fault.ExitInfo1, fault.ExitInfo2, 0);
                return true;
            }
            case InterceptKind.EventWindow: return VirtualInterrupt();
            default: return false;
        }
    }

    /// <summary>Under V_INTR_MASKING the host's IF as VMRUN found it masks physical INTR while the guest runs (15.21.1).</summary>
    private bool PhysicalInterruptMasked => (_vmcbState.VIntr & VIntrMasking) != 0 && !_hostInterruptFlag;

    private bool Instruction(SvmIntercept intercept, ulong exitCode, ulong exitInfo1 = 0)
    {
        if (!_vmcbState.Intercepts(intercept)) return false;
        ExitForInstruction(exitCode, exitInfo1, 0);
        return true;
    }

    /// <summary>The MSR permission map (15.11): two bits per MSR (read, write) for 0000_0000h–0000_1FFFh, C000_0000h–C000_1FFFh, C001_0000h–C001_1FFFh; every other MSR is intercepted.</summary>
    private bool MsrIntercepted(uint index, bool write)
    {
        ulong offset;
        if (index <= 0x1FFF) offset = 0;
        else if (index is >= 0xC0000000 and <= 0xC0001FFF) offset = 0x800;
        else if (index is >= 0xC0010000 and <= 0xC0011FFF) offset = 0x1000;
        else return true;
        var bit = (index & 0x1FFF) * 2 + (write ? 1u : 0u);
        return (_memory.Read(_vmcbState.MsrpmBasePa + offset + bit / 8, 1) & (1UL << (int)(bit & 7))) != 0;
    }

    /// <summary>
    /// IOIO (15.10.2): one IOPM bit per port, every byte of the access checked. EXITINFO1: TYPE (0,
    /// 1 = IN), STR (2), REP (3), SZ8/16/32 (4–6), A16/32/64 (7–9), SEG (12:10), PORT (31:16);
    /// EXITINFO2 the next RIP.
    /// </summary>
    private bool IoIntercept(bool input, ushort port, int size, bool isString)
    {
        if (!_vmcbState.Intercepts(SvmIntercept.IoioProt)) return false;
        var map = _memory.Read(_vmcbState.IopmBasePa + (ulong)(port >> 3), 2);
        if (((map >> (port & 7)) & ((1UL << size) - 1)) == 0) return false;
        var cpu = _cpu;
        var instruction = _intercept.Instruction;
        var info1 = ((ulong)port << 16) | (input ? 1UL : 0UL);
        if (isString)
        {
            info1 |= 1UL << 2;
            var segment = input ? SegmentIndex.ES : instruction.Segment;
            info1 |= (ulong)segment << 10;
        }
        if (instruction.Rep) info1 |= 1UL << 3;
        info1 |= size switch { 1 => 1UL << 4, 2 => 1UL << 5, _ => 1UL << 6 };
        info1 |= instruction.AddressSize switch { 16 => 1UL << 7, 32 => 1UL << 8, _ => 1UL << 9 };
        var next = (cpu.Rip + (ulong)instruction.Length) & RipMask(cpu);
        VmExit(SvmExitCode.Ioio, info1, next, next);
        return true;
    }

    /// <summary>
    /// CR writes (15.9): the CRn write intercept, else for CR0 the selective write intercept when
    /// MOV CR0 or LMSW changes a bit other than TS and MP. Decode assists: EXITINFO1 bit 63 for MOV
    /// CRn with the source GPR in bits 3:0 (15.8.1).
    /// </summary>
    private bool CrWriteIntercept(ControlRegisterWrite write)
    {
        var c = _vmcbState;
        var cpu = _cpu;
        var cr = write.Register & 0xF;
        var value = write.Value;
        var clts = write.Source == ControlRegisterWriteSource.Clts;
        var lmsw = write.Source == ControlRegisterWriteSource.Lmsw;
        var mov = write.Source == ControlRegisterWriteSource.MovToCr;
        var info1 = mov ? (1UL << 63) | ((ulong)_intercept.Instruction.RmRegister & 0xF) : 0;
        if ((c.InterceptCr & (1u << (cr + 16))) != 0)
        {
            ExitForInstruction(SvmExitCode.CrWrite + (ulong)cr, info1, 0);
            return true;
        }
        // Without V_INTR_MASKING a CR8 write reaches V_TPR as well as the APIC's TPR (15.21.2); one with reserved bits faults instead.
        if (cr == 8 && (value >> 4) == 0) _vTpr = value;
        // LMSW takes the selective intercept whatever it writes (table 15-7); MOV CR0 only when it changes a bit other than TS and MP.
        if (cr == 0 && !clts && c.Intercepts(SvmIntercept.Cr0SelectiveWrite) && (lmsw || ((value ^ cpu.Cr0) & ~(Cr0.TS | Cr0.MP) & 0xFFFFFFFFUL) != 0))
        {
            ExitForInstruction(SvmExitCode.Cr0SelWrite, info1, 0);
            return true;
        }
        return false;
    }

    /// <summary>PAUSE with the pause filter (15.14.4): the count is reloaded when more than the threshold's cycles passed since the last PAUSE, and the intercept fires when it runs out.</summary>
    private bool PauseIntercept()
    {
        var c = _vmcbState;
        if (!c.Intercepts(SvmIntercept.Pause)) return false;
        if (c.PauseFilterCount != 0)
        {
            var now = _cpu.CurrentCycle;
            var spaced = c.PauseFilterThreshold != 0 && now - _lastPauseCycle > c.PauseFilterThreshold;
            _lastPauseCycle = now;
            // A PAUSE that comes later than the threshold reloads the count and continues; only a close one decrements it.
            if (spaced)
            {
                _pauseFilterCounter = c.PauseFilterCount;
                return false;
            }
            if (--_pauseFilterCounter > 0) return false;
            _pauseFilterCounter = c.PauseFilterCount;
        }
        ExitForInstruction(SvmExitCode.Pause, 0, 0);
        return true;
    }

    private bool DescriptorTableIntercept()
    {
        var (intercept, exitCode) = _intercept.Instruction.Code.Mnemonic() switch
        {
            Mnemonic.Sidt => (SvmIntercept.IdtrRead, SvmExitCode.IdtrRead),
            Mnemonic.Sgdt => (SvmIntercept.GdtrRead, SvmExitCode.GdtrRead),
            Mnemonic.Sldt => (SvmIntercept.LdtrRead, SvmExitCode.LdtrRead),
            Mnemonic.Str => (SvmIntercept.TrRead, SvmExitCode.TrRead),
            Mnemonic.Lidt => (SvmIntercept.IdtrWrite, SvmExitCode.IdtrWrite),
            Mnemonic.Lgdt => (SvmIntercept.GdtrWrite, SvmExitCode.GdtrWrite),
            Mnemonic.Lldt => (SvmIntercept.LdtrWrite, SvmExitCode.LdtrWrite),
            _ => (SvmIntercept.TrWrite, SvmExitCode.TrWrite),
        };
        return Instruction(intercept, exitCode);
    }

    /// <summary>
    /// Exception intercepts (15.12): EXITINFO1 the error code of vectors that push one, EXITINFO2
    /// the faulting address of #PF (CR2 stays unwritten). The #BP and #OF of INT3 and INTO save nRIP
    /// past their instruction; every other exception intercept resets it (15.7.1). The #DB of INT1
    /// (ICEBP) is not subject to the #DB intercept, only to the ICEBP intercept (table 15-7).
    /// </summary>
    private bool ExceptionIntercept(ExceptionIntercept exception)
    {
        if (exception.Type == EventType.PrivilegedSoftwareException) return false;
        var vector = exception.Vector;
        var errorCode = (ulong)exception.ErrorCode;
        if (vector > 31 || (_vmcbState.InterceptExceptions & (1u << vector)) == 0) return false;
        var info1 = ExceptionVector.HasErrorCode(vector) ? errorCode & 0xFFFFFFFF : 0;
        var info2 = vector == ExceptionVector.PF ? exception.FaultAddress : 0;
        // Hardware writes the #DB status to DR6 before the intercept: hypervisors read its cause from the VMCB DR6.
        if (vector == ExceptionVector.DB) _cpu.SetDebugRegister(6, _cpu.GetDebugRegister(6) | _cpu.PendingDebugStatus);
        if (exception.Type == EventType.SoftwareException) ExitForInstruction(SvmExitCode.Exception + (ulong)vector, info1, info2);
        // Outside event delivery a #BR comes only from BOUND, whose exception saves nRIP too (15.7.1).
        else if (vector == ExceptionVector.BR && !_intercept.EventInDelivery.HasValue) VmExit(SvmExitCode.Exception + (ulong)vector, info1, info2, BoundNextRip());
        else VmExit(SvmExitCode.Exception + (ulong)vector, info1, info2, 0);
        return true;
    }

    private readonly byte[] _instructionBytes = new byte[15];
    private ByteArrayCodeReader? _instructionReader;
    private Decoder? _decoder16, _decoder32;

    /// <summary>The RIP past the BOUND at CS:RIP (16- and 32-bit code only), decoded with Iced; 0 when the bytes are not a BOUND.</summary>
    private ulong BoundNextRip()
    {
        var cpu = _cpu;
        var bytes = _instructionBytes;
        var linear = (uint)(cpu.GetSegment(SegmentIndex.CS).Base + cpu.Rip);
        var count = 0;
        while (count < bytes.Length && cpu.TryReadLinear(linear + (ulong)count, bytes.AsSpan(count, 1))) count++;
        Array.Clear(bytes, count, bytes.Length - count);
        var reader = _instructionReader ??= new ByteArrayCodeReader(bytes);
        var decoder = cpu.CodeBitness == 16 ? _decoder16 ??= Decoder.Create(16, reader) : _decoder32 ??= Decoder.Create(32, reader);
        reader.Position = 0;
        decoder.IP = 0;
        decoder.Decode(out var instruction);
        if (instruction.Mnemonic != Mnemonic.Bound || instruction.Length > count) return 0;
        return (cpu.Rip + (ulong)instruction.Length) & RipMask(cpu);
    }

    /// <summary>Task switch (15.14.1): EXITINFO1 the new TSS selector; EXITINFO2 bit 36 IRET, bit 38 far jump, bit 44 error code valid (31:0).</summary>
    private bool TaskSwitchIntercept(TaskSwitchIntercept taskSwitch)
    {
        if (!_vmcbState.Intercepts(SvmIntercept.TaskSwitch)) return false;
        var info2 = taskSwitch.Source switch { TaskSwitchSource.Iret => 1UL << 36, TaskSwitchSource.Jump => 1UL << 38, _ => 0UL };
        if (taskSwitch.Source == TaskSwitchSource.Gate && taskSwitch.ErrorCode is { } errorCode) info2 |= (1UL << 44) | errorCode;
        VmExit(SvmExitCode.TaskSwitch, taskSwitch.Selector, info2, 0);
        return true;
    }

    /// <summary>
    /// A pending virtual interrupt (15.21.4) is taken when GIF and the guest's IF are set, no
    /// interrupt shadow is in effect and V_INTR_PRIO is above V_TPR (or V_IGN_TPR): the VINTR
    /// intercept exits, else V_INTR_VECTOR is delivered through the guest IDT and V_IRQ cleared.
    /// Physical NMI and INTR go first.
    /// </summary>
    private bool VirtualInterrupt()
    {
        var c = _vmcbState;
        var cpu = _cpu;
        if ((c.VIntr & VIrq) == 0)
        {
            UpdateEventPlumbing();
            return false;
        }
        if (!cpu.GlobalInterruptFlag || !cpu.InterruptsEnabled || cpu.BlockingBySti || cpu.BlockingByMovSs) return false;
        if (cpu.NmiPending && !cpu.NmiBlocked) return false;
        // Physical INTR goes first whether it is taken directly or through a #VMEXIT (15.21.4).
        if (cpu.InterruptSource is { InterruptPending: true } && !PhysicalInterruptMasked) return false;
        var priority = (c.VIntr >> 16) & 0xF;
        if ((c.VIntr & VIgnTpr) == 0 && priority <= VTpr) return false;
        if (c.Intercepts(SvmIntercept.Vintr))
        {
            VmExit(SvmExitCode.Vintr, 0, 0, 0);
            return true;
        }
        c.VIntr &= ~VIrq;
        UpdateEventPlumbing();
        cpu.InjectEvent((int)((c.VIntr >> 32) & 0xFF), EventType.ExternalInterrupt, 0, false, 0);
        return true;
    }
}
