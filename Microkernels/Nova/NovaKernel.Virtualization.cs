using Sim.Cpu;
using Sim.Cpu.Virtualization;
using Sim.Microkernels.Kernel;
using Sim.Svm;
using Sim.Vmx;

namespace Sim.Microkernels.Nova;

/// <summary>The hardware side of NOVA's vCPUs: VMXON, VMCS/VMCB set-up, VM entry, which exits the kernel keeps, and the UTCB transfer.</summary>
public sealed partial class NovaKernel
{
    /// <summary>Whether every processor has VT-x or AMD-V (NOVA refuses vCPUs otherwise).</summary>
    public bool VirtualizationAvailable { get; private set; }

    private void InitialiseVirtualization()
    {
        VirtualizationAvailable = Vendor == CpuVendor.Intel ? Machine.VmxUnits.Count == Processors.Count : Machine.SvmUnits.Count == Processors.Count;
        if (Vendor != CpuVendor.Intel) return;
        foreach (var p in Processors)
        {
            var region = Memory.AllocatePage() ?? throw new InsufficientMemoryException("NOVA: no VMXON region");
            Machine.Memory.Write(region, 4, VmxCapability.VmcsRevisionId);
            var r = p.Vmx!.Vmxon(region);
            if (!r.Succeeded) throw new InvalidOperationException($"NOVA: VMXON failed on CPU {p.Index}: {r}");
        }
    }

    /// <summary>A vCPU's control structure in kernel memory, set up for its PD's guest space.</summary>
    internal bool CreateVcpuState(Ec ec)
    {
        if (!Memory.CanAllocate(2)) return false;
        var space = ec.Pd.EnsureGuestSpace();
        ec.ControlStructure = Memory.AllocatePage()!.Value;
        ec.Pd.Vcpus.Add(ec);
        InitialiseControlStructure(ec, space);
        return true;
    }

    /// <summary>Loads the vCPU's registers and enters its guest; false when the entry ended at once (the exit or the kill is handled).</summary>
    internal bool EnterGuest(Ec ec)
    {
        var p = ec.Processor;
        var cpu = p.Cpu;
        var svm = Vendor == CpuVendor.Amd;
        ec.Registers.LoadInto(cpu, svm);
        if (!svm)
        {
            var vmx = p.Vmx!;
            if (vmx.CurrentVmcs?.Address != ec.ControlStructure) vmx.Vmptrld(ec.ControlStructure);
            var r = ec.Launched ? vmx.Vmresume() : vmx.Vmlaunch();
            switch (r.Kind)
            {
                case VmxResultKind.Succeed:
                    ec.Launched = true;
                    return true;
                case VmxResultKind.EntryFailure:
                case VmxResultKind.VmExit:
                    ec.Launched |= r.Kind == VmxResultKind.VmExit;
                    ec.Registers.SaveFrom(cpu, svm);
                    ec.HandleExit(cpu.LastGuestExit);
                    return false;
                default:
                    Report($"{ec.Name}: VM entry failed ({r.Kind} {r.Error}), vCPU killed");
                    ec.Thread!.Kill();
                    return false;
            }
        }
        var unit = p.Svm!;
        var result = unit.Vmrun(ec.ControlStructure);
        if (result == SvmResult.Success && unit.InGuest) return true;
        if (result is SvmResult.Success or SvmResult.VmexitInvalid)
        {
            ec.Registers.SaveFrom(cpu, svm);
            ec.HandleExit(cpu.LastGuestExit);
            return false;
        }
        Report($"{ec.Name}: VMRUN faulted ({result}), vCPU killed");
        ec.Thread!.Kill();
        return false;
    }

    /// <summary>The portal an exit goes to, or −1 for the exits NOVA handles itself (external interrupts, host NMIs).</summary>
    internal int PortalOf(Ec ec, in GuestExit exit)
    {
        if (exit.Source == GuestExitSource.Svm)
        {
            return exit.Code switch
            {
                SvmExitCode.Intr or SvmExitCode.Nmi => -1,
                SvmExitCode.Npf => PortalSvmNpt,
                SvmExitCode.Invalid => PortalSvmInvalid,
                _ => (int)(exit.Code & 0xFF),
            };
        }
        var basic = (uint)exit.Code & 0xFFFF;
        if (basic == (uint)VmExitReason.ExternalInterrupt) return -1;
        if (basic == (uint)VmExitReason.ExceptionOrNmi && ec.Processor.Vmx!.LastExit.InterruptionInformation is var info && ((info >> 8) & 7) == 2) return -1;
        return (int)(basic & 0xFF);
    }

    /// <summary>After a guest-space change: VT-x flushes the EPT context on every processor, AMD-V flushes the vCPUs' ASID at their next VMRUN.</summary>
    internal void FlushGuestTranslations(Pd pd)
    {
        if (pd.GuestSpace == null) return;
        if (Vendor == CpuVendor.Intel)
        {
            foreach (var p in Processors) p.Vmx!.Invept(2, 0);
            return;
        }
        foreach (var vcpu in pd.Vcpus) Machine.Memory.Write(vcpu.ControlStructure + VmcbLayout.TlbControl, 1, 1);
    }

    internal void HandlerFaulted(Ec handler, Exception fault) => Report($"{handler.Name}: {fault.GetType().Name}");
}
