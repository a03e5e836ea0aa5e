using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Svm;

/// <summary>The SVM instructions (AMD APM vol. 3, VMRUN … SKINIT), shared by guest code and the C# API.</summary>
public sealed partial class SvmUnit
{
    /// <summary>
    /// VMRUN rAX: runs the guest of the VMCB at <paramref name="vmcbPa"/>; the host resumes where it
    /// called from. The host's operation: while a guest runs it returns <see cref="SvmResult.GeneralProtection"/>.
    /// </summary>
    public SvmResult Vmrun(ulong vmcbPa) => InGuest ? SvmResult.GeneralProtection : Run(vmcbPa, _cpu.Rip);

    /// <summary>VMLOAD rAX: loads FS, GS, TR, LDTR and the system-call MSRs from the VMCB at <paramref name="vmcbPa"/>.</summary>
    public SvmResult Vmload(ulong vmcbPa)
    {
        var check = CheckSvmInstruction();
        if (check != SvmResult.Success) return check;
        if (!ValidPage(vmcbPa)) return SvmResult.GeneralProtection;
        _cpu.AddCycles(Costs.Vmload);
        LoadProcessorState(vmcbPa);
        return SvmResult.Success;
    }

    /// <summary>VMSAVE rAX: stores FS, GS, TR, LDTR and the system-call MSRs into the VMCB at <paramref name="vmcbPa"/>.</summary>
    public SvmResult Vmsave(ulong vmcbPa)
    {
        var check = CheckSvmInstruction();
        if (check != SvmResult.Success) return check;
        if (!ValidPage(vmcbPa)) return SvmResult.GeneralProtection;
        _cpu.AddCycles(Costs.Vmsave);
        SaveProcessorState(vmcbPa);
        return SvmResult.Success;
    }

    /// <summary>STGI: sets the global interrupt flag.</summary>
    public SvmResult Stgi()
    {
        var check = CheckSvmInstruction();
        if (check != SvmResult.Success) return check;
        _cpu.GlobalInterruptFlag = true;
        return SvmResult.Success;
    }

    /// <summary>CLGI: clears the global interrupt flag; INTR and NMI stay pending until STGI.</summary>
    public SvmResult Clgi()
    {
        var check = CheckSvmInstruction();
        if (check != SvmResult.Success) return check;
        _cpu.GlobalInterruptFlag = false;
        return SvmResult.Success;
    }

    /// <summary>
    /// INVLPGA rAX, ECX: drops the translation of the page at <paramref name="linear"/> for
    /// <paramref name="asid"/>. The page is dropped in every address space, a superset that the
    /// APM allows (a TLB may lose entries at any time).
    /// </summary>
    public SvmResult Invlpga(ulong linear, uint asid)
    {
        var check = CheckSvmInstruction();
        if (check != SvmResult.Success) return check;
        _ = asid;
        _cpu.FlushTranslationPage(linear);
        return SvmResult.Success;
    }

    /// <summary>VMMCALL outside a guest (or not intercepted) raises #UD.</summary>
    public SvmResult Vmmcall() => SvmResult.UndefinedOpcode;

    /// <summary>SKINIT raises #UD: CPUID 8000_0001h ECX.SKINIT (bit 12) is clear, secure init is not modeled.</summary>
    public SvmResult Skinit() => SvmResult.UndefinedOpcode;

    /// <summary>
    /// The exceptions every SVM instruction but VMMCALL checks first: #UD with EFER.SVME clear or
    /// outside protected mode (real and virtual-8086 mode), then #GP(0) at CPL above 0.
    /// </summary>
    private SvmResult CheckSvmInstruction()
    {
        var cpu = _cpu;
        if ((cpu.Efer & Efer.SVME) == 0 || !cpu.InProtectedMode || cpu.InVirtual8086Mode) return SvmResult.UndefinedOpcode;
        if (cpu.Cpl != 0) return SvmResult.GeneralProtection;
        return SvmResult.Success;
    }

    /// <summary>rAX must be 4-KiB aligned and below the physical-address width (#GP(0) otherwise).</summary>
    private static bool ValidPage(ulong pa) => (pa & 0xFFF) == 0 && pa < MaxPhysicalAddress;

    /// <summary>An SVM (or VMX) instruction reached through guest or host code.</summary>
    private bool ExecuteInstruction(Code code)
    {
        var cpu = _cpu;
        var instruction = _intercept.Instruction;
        var addressMask = instruction.AddressSize switch { 16 => 0xFFFFUL, 32 => 0xFFFFFFFFUL, _ => ulong.MaxValue };
        var rax = cpu.Rax & addressMask;
        SvmIntercept intercept;
        ulong exitCode;
        switch (code)
        {
            case Code.Vmrunw or Code.Vmrund or Code.Vmrunq: intercept = SvmIntercept.Vmrun; exitCode = SvmExitCode.Vmrun; break;
            case Code.Vmloadw or Code.Vmloadd or Code.Vmloadq: intercept = SvmIntercept.Vmload; exitCode = SvmExitCode.Vmload; break;
            case Code.Vmsavew or Code.Vmsaved or Code.Vmsaveq: intercept = SvmIntercept.Vmsave; exitCode = SvmExitCode.Vmsave; break;
            case Code.Stgi: intercept = SvmIntercept.Stgi; exitCode = SvmExitCode.Stgi; break;
            case Code.Clgi: intercept = SvmIntercept.Clgi; exitCode = SvmExitCode.Clgi; break;
            case Code.Invlpgaw or Code.Invlpgad or Code.Invlpgaq: intercept = SvmIntercept.Invlpga; exitCode = SvmExitCode.Invlpga; break;
            case Code.Vmmcall:
                if (InGuest && _vmcbState.Intercepts(SvmIntercept.Vmmcall))
                {
                    ExitForInstruction(SvmExitCode.Vmmcall, 0, 0);
                    return true;
                }
                return Fault(ExceptionVector.UD);
            default:
                // SKINIT (not offered) and the VMX instructions of an AMD processor.
                return Fault(ExceptionVector.UD);
        }

        // Simple exceptions come before the intercept check, operand checks after it (APM vol. 2, 15.7.1).
        var check = CheckSvmInstruction();
        if (check != SvmResult.Success) return Fault(check);
        if (InGuest && _vmcbState.Intercepts(intercept))
        {
            ExitForInstruction(exitCode, 0, 0);
            return true;
        }

        SvmResult result;
        switch (intercept)
        {
            case SvmIntercept.Vmrun:
                if (!ValidPage(rax)) return Fault(ExceptionVector.GP);
                result = Run(rax, (cpu.Rip + (ulong)instruction.Length) & RipMask(cpu));
                if (result is SvmResult.Success or SvmResult.VmexitInvalid)
                {
                    cpu.RetireInstruction();
                    return true;
                }
                return Fault(result);
            case SvmIntercept.Vmload or SvmIntercept.Vmsave:
            {
                // A guest's VMLOAD/VMSAVE address is guest-physical: under nested paging it goes through the nested tables.
                if (!ValidPage(rax)) return Fault(ExceptionVector.GP);
                var write = intercept == SvmIntercept.Vmsave;
                if (InGuest && _vmcbState.NpEnable && _npt != null)
                {
                    if (!_npt.Translate(cpu, rax, write ? GuestPhysicalAccess.Write : GuestPhysicalAccess.Read, 0, out var hostPa))
                    {
                        var fault = _npt.LastFault;
                        VmExit(SvmExitCode.Npf, fault.ExitInfo1, fault.ExitInfo2, 0);
                        return true;
                    }
                    rax = hostPa;
                }
                result = write ? Vmsave(rax) : Vmload(rax);
                break;
            }
            case SvmIntercept.Stgi: result = Stgi(); break;
            case SvmIntercept.Clgi: result = Clgi(); break;
            default: result = Invlpga(rax, (uint)cpu.Rcx); break;
        }
        if (result != SvmResult.Success) return Fault(result);
        cpu.CompleteInstruction();
        return true;
    }

    private static ulong RipMask(Processor cpu) => cpu.CodeBitness == 64 ? ulong.MaxValue : cpu.CodeBitness == 32 ? 0xFFFFFFFFUL : 0xFFFFUL;

    private bool Fault(SvmResult result) => Fault(result == SvmResult.UndefinedOpcode ? ExceptionVector.UD : ExceptionVector.GP);

    private bool Fault(int vector)
    {
        _cpu.RaiseException(vector, 0);
        return true;
    }

    /// <summary>VMLOAD's state (APM vol. 2, 15.5.2): FS, GS, TR, LDTR with their hidden parts, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP.</summary>
    private void LoadProcessorState(ulong vmcb)
    {
        var cpu = _cpu;
        var m = _memory;
        cpu.SetSegment(SegmentIndex.FS, VmcbSegment.Read(m, vmcb + VmcbLayout.Fs, true));
        cpu.SetSegment(SegmentIndex.GS, VmcbSegment.Read(m, vmcb + VmcbLayout.Gs, true));
        cpu.Tr = VmcbSegment.Read(m, vmcb + VmcbLayout.Tr, false);
        cpu.Ldtr = VmcbSegment.Read(m, vmcb + VmcbLayout.Ldtr, true);
        cpu.KernelGsBase = m.Read(vmcb + VmcbLayout.KernelGsBase, 8);
        cpu.Star = m.Read(vmcb + VmcbLayout.Star, 8);
        cpu.Lstar = m.Read(vmcb + VmcbLayout.Lstar, 8);
        cpu.Cstar = m.Read(vmcb + VmcbLayout.Cstar, 8);
        cpu.Fmask = m.Read(vmcb + VmcbLayout.Sfmask, 8) & 0xFFFFFFFF;
        cpu.SysenterCs = m.Read(vmcb + VmcbLayout.SysenterCs, 8) & 0xFFFF;
        cpu.SysenterEsp = m.Read(vmcb + VmcbLayout.SysenterEsp, 8);
        cpu.SysenterEip = m.Read(vmcb + VmcbLayout.SysenterEip, 8);
    }

    private void SaveProcessorState(ulong vmcb)
    {
        var cpu = _cpu;
        var m = _memory;
        VmcbSegment.Write(m, vmcb + VmcbLayout.Fs, cpu.GetSegment(SegmentIndex.FS));
        VmcbSegment.Write(m, vmcb + VmcbLayout.Gs, cpu.GetSegment(SegmentIndex.GS));
        VmcbSegment.Write(m, vmcb + VmcbLayout.Tr, cpu.Tr);
        VmcbSegment.Write(m, vmcb + VmcbLayout.Ldtr, cpu.Ldtr);
        m.Write(vmcb + VmcbLayout.KernelGsBase, 8, cpu.KernelGsBase);
        m.Write(vmcb + VmcbLayout.Star, 8, cpu.Star);
        m.Write(vmcb + VmcbLayout.Lstar, 8, cpu.Lstar);
        m.Write(vmcb + VmcbLayout.Cstar, 8, cpu.Cstar);
        m.Write(vmcb + VmcbLayout.Sfmask, 8, cpu.Fmask);
        m.Write(vmcb + VmcbLayout.SysenterCs, 8, cpu.SysenterCs);
        m.Write(vmcb + VmcbLayout.SysenterEsp, 8, cpu.SysenterEsp);
        m.Write(vmcb + VmcbLayout.SysenterEip, 8, cpu.SysenterEip);
    }
}
