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
            var r = NovaVmcs.Vmxon(p.Vmx!, Machine.Memory, region);
            if (!r.Succeeded) throw new InvalidOperationException($"NOVA: VMXON failed on CPU {p.Index}: {r}");
        }
    }

    /// <summary>Pages a vCPU's control structure needs: VMCS, I/O bitmaps (2), MSR bitmap, two MSR areas, virtual-APIC page; VMCB, IOPM (3), MSRPM (2).</summary>
    private int ControlStructurePages => Vendor == CpuVendor.Intel ? 7 : 6;

    /// <summary>A vCPU's control structure in kernel memory, set up for its PD's guest space; false when kernel memory is exhausted.</summary>
    internal bool CreateVcpuState(Ec ec)
    {
        if (!Memory.CanAllocate(ControlStructurePages + 4)) return false;
        var space = ec.Pd.EnsureGuestSpace();
        var memory = Machine.Memory;
        if (Vendor == CpuVendor.Intel)
        {
            var vmcs = Memory.AllocatePage()!.Value;
            var io = Memory.AllocatePages(2)!.Value;
            var pages = new NovaVmcsPages(vmcs, io, Memory.AllocatePage()!.Value, Memory.AllocatePage()!.Value, Memory.AllocatePage()!.Value, Memory.AllocatePage()!.Value);
            var vmx = ec.Processor.Vmx!;
            var r = NovaVmcs.Create(vmx, memory, ec.Registers, pages, ec.Processor.Host, space.Root, ec.Pd.Tag);
            if (!r.Succeeded) throw new InvalidOperationException($"NOVA: VMCS set-up failed: {r}");
            ec.ControlStructure = vmcs;
        }
        else
        {
            var vmcb = Memory.AllocatePage()!.Value;
            var iopm = Memory.AllocatePages(3)!.Value;
            var msrpm = Memory.AllocatePages(2)!.Value;
            NovaVmcb.Create(memory, ec.Registers, vmcb, iopm, msrpm, space.Root, ec.Pd.Tag);
            ec.ControlStructure = vmcb;
        }
        ec.Pd.Vcpus.Add(ec);
        return true;
    }

    /// <summary>Makes the vCPU's VMCS the current one of its processor (NOVA's <c>make_current</c>).</summary>
    private static VmxUnit CurrentVmcs(Ec ec)
    {
        var vmx = ec.Processor.Vmx!;
        if (vmx.CurrentVmcs?.Address != ec.ControlStructure) vmx.Vmptrld(ec.ControlStructure);
        return vmx;
    }

    /// <summary>The exit's state into the handler's UTCB by <paramref name="mtd"/>, with <paramref name="portal"/> as exit_value; returns the words copied.</summary>
    internal int LoadUtcb(Ec vcpu, ulong utcb, Mtd mtd, uint portal)
    {
        vcpu.Registers.DstPortal = portal;
        var tsc = vcpu.Processor.Cpu.TimeStampCounter;
        return Vendor == CpuVendor.Intel
            ? VmxStateTransfer.Load(CurrentVmcs(vcpu), vcpu.Registers, Machine.Memory, utcb, mtd, tsc)
            : SvmStateTransfer.Load(Machine.Memory, vcpu.ControlStructure, vcpu.Registers, utcb, mtd, tsc);
    }

    /// <summary>The reply: what the UTCB's MTD word selects back into the vCPU; returns the words copied.</summary>
    internal int SaveUtcb(Ec vcpu, ulong utcb) => Vendor == CpuVendor.Intel
        ? VmxStateTransfer.Save(CurrentVmcs(vcpu), vcpu.Registers, Machine.Memory, utcb)
        : SvmStateTransfer.Save(Machine.Memory, vcpu.ControlStructure, vcpu.Registers, utcb);

    /// <summary>Loads the vCPU's registers and enters its guest; false when the entry ended at once (the exit or the kill is handled).</summary>
    internal bool EnterGuest(Ec ec)
    {
        var p = ec.Processor;
        var cpu = p.Cpu;
        var svm = Vendor == CpuVendor.Amd;
        ec.Registers.LoadInto(cpu, svm);
        if (!svm)
        {
            var vmx = CurrentVmcs(ec);
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
            if (exit.Code is SvmExitCode.Intr or SvmExitCode.Nmi) return -1;
            return (int)(SvmStateTransfer.ExitPortal(Machine.Memory, ec.ControlStructure, ec.Registers) & 0xFF);
        }
        var basic = (uint)exit.Code & 0xFFFF;
        if (basic == (uint)VmExitReason.ExternalInterrupt) return -1;
        if (basic == (uint)VmExitReason.ExceptionOrNmi && ec.Processor.Vmx!.LastExit.InterruptionInformation is var info && ((info >> 8) & 7) == 2) return -1;
        return (int)VmxStateTransfer.ExitPortal(CurrentVmcs(ec), ec.Registers);
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
