using Sim.Cpu;
using Sim.Cpu.Virtualization;
using Sim.Microkernels.Kernel;
using Sim.Platform.Tracing;
using Sim.Svm;
using Sim.Vmx;

namespace Sim.Microkernels.Nova;

/// <summary>
/// A vCPU EC: its VMCS or VMCB, the guest registers the hardware does not switch, the portal it
/// goes to next (NOVA's <c>dst_portal</c>, the startup portal at creation) and the recall hazard.
/// Each time its SC runs it, it delivers a pending exit or enters the guest; the exit that ends
/// the guest's slice is handled by the kernel or sent to the portal at event base + exit reason.
/// </summary>
public sealed partial class Ec
{
    /// <summary>The VMCS (VT-x) or VMCB (AMD-V) of a vCPU.</summary>
    public ulong ControlStructure { get; internal set; }

    /// <summary>The guest registers NOVA keeps in the EC (those the VMCS/VMCB does not hold).</summary>
    public VcpuRegisters Registers { get; } = new();

    /// <summary>Whether VMLAUNCH has run on the VMCS (VMRESUME from then on).</summary>
    internal bool Launched { get; set; }

    /// <summary>The portal of the exit to deliver before the guest runs again, or -1.</summary>
    internal int PendingPortal { get; set; } = NovaKernel.PortalStartup;

    /// <summary>NOVA's HZD_RECALL.</summary>
    public bool RecallHazard { get; internal set; }

    /// <summary>VM exits taken (kernel-handled ones included) and exits delivered to portals.</summary>
    public ulong ExitCount { get; private set; }

    public ulong PortalExitCount { get; private set; }

    internal void Recall(KernelProcessor from)
    {
        RecallHazard = true;
        if (!ReferenceEquals(from, Processor) && Processor.InGuest && ReferenceEquals(Processor.Current, Thread))
            from.Request(Processor, static () => { });
    }

    internal void RunVcpu(ulong until)
    {
        var p = Processor;
        // While the guest is between entry and exit its state is the processor's: hazards are looked at on the way
        // back into the guest, after the exit that the recall's IPI (or any other) causes.
        if (p.InGuest)
        {
            RunGuest(p, until);
            return;
        }
        if (PendingPortal < 0 && RecallHazard)
        {
            RecallHazard = false;
            PendingPortal = NovaKernel.PortalRecall;
        }
        if (PendingPortal >= 0)
        {
            var portal = PendingPortal;
            PendingPortal = -1;
            Deliver(portal);
            return;
        }
        if (!Kernel.EnterGuest(this)) return;
        p.InGuest = true;
        RunGuest(p, until);
    }

    private void RunGuest(KernelProcessor p, ulong until)
    {
        var reason = p.Cpu.Run(until);
        if (reason != StopReason.VmExit)
        {
            // The guest keeps running in its next slice; a halted guest lets the processor sleep.
            if (reason is StopReason.Halted or StopReason.Shutdown or StopReason.StopRequested) p.EndSlice(reason);
            return;
        }
        p.InGuest = false;
        Registers.SaveFrom(p.Cpu, Kernel.Vendor == CpuVendor.Amd);
        HandleExit(p.Cpu.LastGuestExit);
    }

    /// <summary>The portal argument of a GuestExit trace event for an exit the kernel handled itself.</summary>
    public const ulong KernelHandled = ulong.MaxValue;

    /// <summary>
    /// What the kernel does with an exit: what NOVA handles itself resumes the guest, the rest goes to a portal. The
    /// trace gets a GuestExit, stamped with the cycle the exit completed at, with the vCPU's thread id, the raw exit
    /// reason (VMX) or exit code (SVM) and the portal.
    /// </summary>
    internal void HandleExit(in GuestExit exit)
    {
        ExitCount++;
        // Stamped when the hardware's exit is done, before the kernel looks at it.
        var at = Processor.Cpu.Cycles;
        var portal = Kernel.PortalOf(this, exit);
        var trace = Kernel.Trace;
        if (trace.Enabled)
            trace.Emit(new TraceEvent(at, Processor.Index, TraceEventKind.GuestExit, 0, (ulong)Thread!.Id, exit.Code, portal < 0 ? KernelHandled : (ulong)portal));
        if (portal < 0)
        {
            // Handled by the kernel: the interrupt is taken now; a recall it carried shows at the next run.
            Processor.ServiceInterrupts();
            return;
        }
        Deliver(portal);
    }

    /// <summary>Sends the vCPU to the portal at event base + <paramref name="portal"/>; a missing or foreign portal kills it, as NOVA's "PT not found".</summary>
    private void Deliver(int portal)
    {
        var pt = Pd.Objects.Lookup<Pt>(EventBase + (ulong)portal);
        if (pt == null)
        {
            Kernel.Report($"{Name}: PT not found for exit {portal:x2}, vCPU killed");
            Thread!.Kill();
            return;
        }
        if (!ReferenceEquals(pt.Ec.Processor, Processor))
        {
            Kernel.Report($"{Name}: PT wrong CPU for exit {portal:x2}, vCPU killed");
            Thread!.Kill();
            return;
        }
        PortalExitCount++;
        pt.Ec.CallPortal(this, pt, portal);
    }

    /// <summary>The call through the portal: state in by the portal's MTD, the handler, state back by the reply's MTD, then resume or block.</summary>
    private void PortalCall(Pt pt, int portal)
    {
        var handler = pt.Ec;
        var p = Processor;
        var trace = Kernel.Trace;
        if (trace.Enabled) trace.Emit(TraceEvent.KernelEnter(p.Cpu.Cycles, p.Index, Kernel.PortalCallName, (ulong)portal));
        p.Charge(KernelOperation.Ipc);
        var words = Kernel.LoadUtcb(this, handler.Utcb, pt.Mtd, (uint)portal);
        p.Charge(KernelOperation.UtcbWord, (ulong)words);
        PortalReply reply;
        try
        {
            reply = pt.Entry(pt.Id);
        }
        catch (Exception e)
        {
            Kernel.Report($"{handler.Name}: portal handler for exit {portal:x2} failed: {e.Message}");
            Kernel.HandlerFaulted(handler, e);
            reply = PortalReply.BlockOn(ulong.MaxValue);
        }
        p.Charge(KernelOperation.Ipc);
        words = Kernel.SaveUtcb(this, handler.Utcb);
        p.Charge(KernelOperation.UtcbWord, (ulong)words);
        var outcome = Resume(handler, reply);
        if (trace.Enabled) trace.Emit(TraceEvent.KernelLeave(p.Cpu.Cycles, p.Index, Kernel.PortalCallName, outcome));
    }

    /// <summary>After the reply: the vCPU goes on, or blocks on the reply's semaphore; returns 0 (resumed) or 1 (blocked).</summary>
    private ulong Resume(Ec handler, PortalReply reply)
    {
        var thread = Thread!;
        if (reply.Semaphore is { } sel)
        {
            var sm = handler.Pd.Objects.Lookup<Sm>(sel, ObjectRights.SmDown);
            if (sm == null)
            {
                // A reply naming no semaphore it may down leaves the vCPU stopped for good.
                if (sel != ulong.MaxValue) Kernel.Report($"{handler.Name}: reply with bad semaphore selector {sel:x}");
                thread.Block();
                return 1;
            }
            if (!sm.Semaphore.TryDown())
            {
                sm.Semaphore.Wait(thread);
                return 1;
            }
        }
        if (thread.State == KernelThreadState.Blocked) thread.Wake();
        return thread.State == KernelThreadState.Dead ? 2UL : 0;
    }
}
