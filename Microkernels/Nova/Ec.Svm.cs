using Sim.Cpu.Memory;
using Sim.Svm;

namespace Sim.Microkernels.Nova;

/// <summary>
/// NOVA's AMD-V exit handling (alex-ab/NOVA r10 src/ec_svm.cpp <c>handle_svm</c>). The kernel keeps INTR (the host
/// takes the interrupt) and #NM (lazy FPU switching); an NMI exit goes to portal 61H like any other exit, the NMI
/// itself being taken by the host once GIF is set again. CR intercepts are emulated by the kernel only without
/// nested paging (<c>svm_cr</c> decodes through the vTLB); the processor always offers NPT, so with NOVA's masks they
/// go to the VMM's portal. Exit codes beyond the 256 portals go to <see cref="NovaExit.Unsupported"/>.
/// </summary>
public sealed partial class Ec
{
    private const ulong SvmExceptionBase = 0x40, SvmDeviceNotAvailable = 0x47, SvmIntr = 0x60;

    /// <summary>The portal of an SVM exit, or −1 when the kernel handled it and the guest resumes.</summary>
    internal int HandleSvm(PhysicalMemory memory)
    {
        var vmcb = ControlStructure;
        memory.Write(vmcb + VmcbLayout.TlbControl, 1, 0);
        var code = memory.Read(vmcb + VmcbLayout.ExitCode, 8);
        var reason = SvmStateTransfer.ExitPortal(memory, vmcb, Registers);
        if (reason >= NovaExit.PortalCount)
        {
            reason = NovaExit.Unsupported;
            Registers.DstPortal = reason;
        }
        if (code is >= SvmExceptionBase and < SvmExceptionBase + 32) return SvmException(memory, code);
        if (code == SvmIntr)
        {
            Registers.DstPortal = NovaExit.Recall;
            return -1;
        }
        return (int)reason;
    }

    /// <summary><c>svm_exception</c>: an interrupted external interrupt or hardware exception (not #BP/#OF) is re-injected; #NM stays in the kernel.</summary>
    private int SvmException(PhysicalMemory memory, ulong code)
    {
        var vmcb = ControlStructure;
        var intInfo = memory.Read(vmcb + VmcbLayout.ExitIntInfo, 8);
        if ((intInfo & 0x80000000) != 0)
        {
            var type = (intInfo >> 8) & 7;
            var vector = intInfo & 0xFF;
            if (type == 0 || (type == 3 && vector != 3 && vector != 4)) memory.Write(vmcb + VmcbLayout.EventInj, 8, intInfo);
        }
        if (code != SvmDeviceNotAvailable) return (int)code;
        var cr0 = SvmStateTransfer.GetCr0(memory, vmcb, Registers);
        Registers.FpuOn = true;
        memory.Write(vmcb + VmcbLayout.InterceptExceptions, 4, NovaVmx.ExceptionBitmap(Registers));
        memory.Write(vmcb + VmcbLayout.InterceptCr, 4, NovaSvm.CrIntercepts(Registers));
        SvmStateTransfer.SetCr0(memory, vmcb, Registers, cr0);
        var clean = memory.Read(vmcb + VmcbLayout.VmcbClean, 4);
        memory.Write(vmcb + VmcbLayout.VmcbClean, 4, clean & ~(ulong)(uint)(VmcbCleanBits.I | VmcbCleanBits.CrX));
        return -1;
    }
}
