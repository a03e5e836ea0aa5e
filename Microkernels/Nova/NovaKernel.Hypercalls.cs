using Sim.Microkernels.Kernel;

namespace Sim.Microkernels.Nova;

/// <summary>
/// The hypercalls, each as NOVA checks its arguments: selectors are looked up in the calling EC's
/// PD and must name an object of the right kind with the right permission (else
/// <see cref="NovaStatus.InvalidSelector"/>, or <see cref="NovaStatus.InvalidParameter"/> for an
/// object of the wrong kind where NOVA says so); a destination selector must be free.
/// </summary>
public sealed partial class NovaKernel
{
    private ObjectSpace CallerSpace => CurrentEc.Pd.Objects;

    /// <summary>create_pd: a new, empty PD; its capability goes to <paramref name="selector"/> in the caller's space.</summary>
    public NovaStatus CreatePd(ulong selector, ulong parentPd, string name = "pd")
    {
        ChargeSyscall();
        var space = CallerSpace;
        if (space.Lookup<Pd>(parentPd, ObjectRights.PdCreatePd) == null) return NovaStatus.InvalidSelector;
        var pd = new Pd(this, name);
        return space.Insert(selector, new Capability(pd, ObjectRights.All)) ? NovaStatus.Success : NovaStatus.InvalidSelector;
    }

    /// <summary>
    /// create_ec: an EC in <paramref name="pd"/> bound to <paramref name="cpu"/>. A UTCB address of
    /// 0 makes it a vCPU (refused without VT-x or AMD-V); a global EC runs <paramref name="entry"/>
    /// once an SC is bound; a local EC serves portals.
    /// </summary>
    public NovaStatus CreateEc(ulong selector, ulong pd, int cpu, ulong utcb, ulong eventBase, bool global, Func<Task>? entry = null, string name = "ec")
    {
        ChargeSyscall();
        var space = CallerSpace;
        if (cpu < 0 || cpu >= Processors.Count) return NovaStatus.InvalidCpu;
        var vcpu = utcb == 0;
        if (vcpu && !VirtualizationAvailable) return NovaStatus.InvalidFeature;
        var target = space.Lookup<Pd>(pd, ObjectRights.PdCreateEc);
        if (target == null) return NovaStatus.InvalidSelector;
        if (space.Lookup(selector) != null || selector >= ObjectSpace.SelectorLimit) return NovaStatus.InvalidSelector;
        if (!vcpu && global && entry == null) return NovaStatus.InvalidParameter;
        var kind = vcpu ? EcKind.Vcpu : global ? EcKind.Global : EcKind.Local;
        Ec ec;
        if (vcpu)
        {
            ec = new Ec(this, name, target, Processors[cpu], kind, 0, eventBase, null);
            if (!CreateVcpuState(ec)) return NovaStatus.PdOutOfMemory;
        }
        else
        {
            if (!Memory.CanAllocate(1)) return NovaStatus.PdOutOfMemory;
            ec = new Ec(this, name, target, Processors[cpu], kind, AllocateUtcb(), eventBase, entry);
        }
        space.Insert(selector, new Capability(ec, ObjectRights.All));
        return NovaStatus.Success;
    }

    /// <summary>
    /// create_sc: binds a scheduling context to a global EC or vCPU, which starts running (a vCPU with its startup exit).
    /// As NOVA: a local EC cannot take an SC (BAD_CAP), a bad priority or quantum is BAD_PAR, a taken selector BAD_CAP
    /// after that. NOVA lets an EC have several SCs; the model gives each EC one thread, so a second is BAD_PAR.
    /// </summary>
    public NovaStatus CreateSc(ulong selector, ulong pd, ulong ec, int priority, ulong quantum = DefaultQuantum)
    {
        ChargeSyscall();
        var space = CallerSpace;
        if (space.Lookup<Pd>(pd, ObjectRights.PdCreateSc) == null) return NovaStatus.InvalidSelector;
        var target = space.Lookup<Ec>(ec, ObjectRights.EcCreateSc);
        if (target == null || target.Kind == EcKind.Local) return NovaStatus.InvalidSelector;
        if (priority <= 0 || priority >= CpuScheduler.Priorities || quantum == 0 || target.Thread != null) return NovaStatus.InvalidParameter;
        if (space.Lookup(selector) != null || selector >= ObjectSpace.SelectorLimit) return NovaStatus.InvalidSelector;
        var sc = new Sc(this, target, priority, quantum);
        space.Insert(selector, new Capability(sc, ObjectRights.All));
        KernelThread thread = target.Kind == EcKind.Vcpu
            ? new VcpuThread(target, priority, quantum)
            : new HostThread(target.Name, priority, quantum, target.Entry!) { Owner = target, AddressSpace = target.Pd };
        target.Thread = Register(thread, target.Processor);
        target.Processor.Scheduler.MakeReady(thread);
        return NovaStatus.Success;
    }

    /// <summary>create_pt: a portal into a local EC with the MTD its vCPU exits transfer; NOVA refuses a global EC or vCPU with BAD_CAP.</summary>
    public NovaStatus CreatePt(ulong selector, ulong pd, ulong ec, Mtd mtd, PortalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ChargeSyscall();
        var space = CallerSpace;
        if (space.Lookup<Pd>(pd, ObjectRights.PdCreatePt) == null) return NovaStatus.InvalidSelector;
        var target = space.Lookup<Ec>(ec, ObjectRights.EcCreatePt);
        if (target == null || target.Kind != EcKind.Local) return NovaStatus.InvalidSelector;
        if (space.Lookup(selector) != null || selector >= ObjectSpace.SelectorLimit) return NovaStatus.InvalidSelector;
        space.Insert(selector, new Capability(new Pt(this, target, mtd, entry), ObjectRights.All));
        return NovaStatus.Success;
    }

    /// <summary>create_sm: a semaphore with an initial count.</summary>
    public NovaStatus CreateSm(ulong selector, ulong pd, ulong count = 0)
    {
        ChargeSyscall();
        var space = CallerSpace;
        if (space.Lookup<Pd>(pd, ObjectRights.PdCreateSm) == null) return NovaStatus.InvalidSelector;
        if (space.Lookup(selector) != null || selector >= ObjectSpace.SelectorLimit) return NovaStatus.InvalidSelector;
        space.Insert(selector, new Capability(new Sm(this, count), ObjectRights.All));
        return NovaStatus.Success;
    }

    /// <summary>pt_ctrl: sets the portal id a call passes to the handler.</summary>
    public NovaStatus PtCtrl(ulong pt, ulong id)
    {
        ChargeSyscall();
        var portal = CallerSpace.Lookup<Pt>(pt, ObjectRights.PtCtrl);
        if (portal == null) return NovaStatus.InvalidSelector;
        portal.Id = id;
        return NovaStatus.Success;
    }

    /// <summary>sm_ctrl up (SEMAPHORE_UP): wakes the longest waiter or counts; needs the SM_UP right.</summary>
    public NovaStatus SmUp(ulong sm)
    {
        ChargeSyscall();
        var s = CallerSpace.Lookup<Sm>(sm, ObjectRights.SmUp);
        if (s == null) return NovaStatus.InvalidSelector;
        s.Semaphore.Up();
        return NovaStatus.Success;
    }

    /// <summary>
    /// sm_ctrl down (SEMAPHORE_DOWN) or downzero (SEMAPHORE_DOWNZERO, NOVA's <c>Sm::dn</c> with <c>zero</c>: a count
    /// present is taken whole, the counter drops to 0): takes a count or blocks the calling thread; a non-zero
    /// <paramref name="timeoutTsc"/> is the absolute TSC value at which the wait ends with
    /// <see cref="NovaStatus.Timeout"/>. Code outside every thread cannot block: with no count it gets
    /// <see cref="NovaStatus.Timeout"/> at once.
    /// </summary>
    public ThreadWait SmDown(ulong sm, bool zero = false, ulong timeoutTsc = 0)
    {
        ChargeSyscall();
        var s = CallerSpace.Lookup<Sm>(sm, ObjectRights.SmDown);
        if (s == null) return ThreadWait.Completed((int)NovaStatus.InvalidSelector);
        if (s.Semaphore.TryDown(zero)) return ThreadWait.Completed((int)NovaStatus.Success);
        if (Running?.Current is not HostThread thread || _calls[Running.Index].Count > 0)
            return ThreadWait.Completed((int)NovaStatus.Timeout);
        ulong? deadline = null;
        if (timeoutTsc != 0)
        {
            var cpu = Running.Cpu;
            var tsc = cpu.TimeStampCounter;
            if (timeoutTsc <= tsc) return ThreadWait.Completed((int)NovaStatus.Timeout);
            deadline = cpu.Cycles + (timeoutTsc - tsc);
        }
        return s.Semaphore.Down(thread, zero, deadline, (int)NovaStatus.Timeout);
    }

    /// <summary>ec_ctrl recall: the vCPU exits through its recall portal (0xff) before it next runs guest code; an IPI makes it leave a guest running on another CPU.</summary>
    public NovaStatus EcRecall(ulong ec)
    {
        ChargeSyscall();
        var target = CallerSpace.Lookup<Ec>(ec, ObjectRights.EcRecall);
        if (target == null) return NovaStatus.InvalidSelector;
        if (target.Kind != EcKind.Vcpu) return NovaStatus.Success;
        target.Recall(ChargedProcessor);
        return NovaStatus.Success;
    }

    /// <summary>
    /// ec_ctrl EC_GET_VCPU_STATE (6), Genode's extension of NOVA: sets the vCPU's recall hazard and copies the state
    /// <paramref name="mtd"/> selects into the caller's UTCB, as an exit through a portal with that MTD would. Only on
    /// the vCPU's own CPU (BAD_CPU otherwise); the EC needs the recall right.
    /// </summary>
    public NovaStatus EcGetVcpuState(ulong ec, Mtd mtd)
    {
        ChargeSyscall();
        var status = VcpuOfCaller(ec, out var target);
        if (status != NovaStatus.Success) return status;
        target!.RecallHazard = true;
        var utcb = CurrentEc.Utcb;
        var tsc = target.Processor.Cpu.TimeStampCounter;
        var words = Vendor == Sim.Cpu.CpuVendor.Intel
            ? VmxStateTransfer.Load(CurrentVmcs(target), target.Registers, Machine.Memory, utcb, mtd, tsc)
            : SvmStateTransfer.Load(Machine.Memory, target.ControlStructure, target.Registers, utcb, mtd, tsc);
        ChargedProcessor.Charge(KernelOperation.UtcbWord, (ulong)words);
        return NovaStatus.Success;
    }

    /// <summary>
    /// ec_ctrl EC_SET_VCPU_STATE (7): loads the vCPU state the caller's UTCB mtd word selects, makes the recall portal
    /// the vCPU's current exit (<c>dst_portal</c>) and clears the recall hazard unless <paramref name="recall"/>. Only on
    /// the vCPU's own CPU (BAD_CPU otherwise).
    /// </summary>
    public NovaStatus EcSetVcpuState(ulong ec, bool recall)
    {
        ChargeSyscall();
        var status = VcpuOfCaller(ec, out var target);
        if (status != NovaStatus.Success) return status;
        var words = SaveUtcb(target!, CurrentEc.Utcb);
        ChargedProcessor.Charge(KernelOperation.UtcbWord, (ulong)words);
        target!.Registers.DstPortal = NovaExit.Recall;
        if (!recall) target.RecallHazard = false;
        return NovaStatus.Success;
    }

    private NovaStatus VcpuOfCaller(ulong ec, out Ec? target)
    {
        target = CallerSpace.Lookup<Ec>(ec, ObjectRights.EcRecall);
        if (target == null) return NovaStatus.InvalidSelector;
        if (target.Kind != EcKind.Vcpu) return NovaStatus.InvalidParameter;
        return ReferenceEquals(ChargedProcessor, target.Processor) ? NovaStatus.Success : NovaStatus.InvalidCpu;
    }

    /// <summary>Delegates an object capability from the caller's space into <paramref name="targetPd"/>'s, with the rights masked.</summary>
    public NovaStatus DelegateObject(ulong selector, ulong targetPd, ulong targetSelector, uint rights = ObjectRights.All)
    {
        ChargeSyscall();
        var space = CallerSpace;
        var pd = space.Lookup<Pd>(targetPd);
        if (pd == null || space.Lookup(selector) == null) return NovaStatus.InvalidSelector;
        return space.Delegate(selector, pd.Objects, targetSelector, rights) ? NovaStatus.Success : NovaStatus.InvalidSelector;
    }

    /// <summary>
    /// Delegates host-physical memory into a PD's guest-physical space (Genode core's delegation of a
    /// dataspace into the VM PD): page aligned, within RAM outside kernel memory, rights from the
    /// memory CRD. The guest's translations are flushed, as NOVA does when it changes a space.
    /// </summary>
    public NovaStatus DelegateMemory(ulong targetPd, ulong hostPhysical, ulong guestPhysical, ulong size, GuestPageRights rights)
    {
        ChargeSyscall();
        var pd = CallerSpace.Lookup<Pd>(targetPd);
        if (pd == null) return NovaStatus.InvalidSelector;
        if (((hostPhysical | guestPhysical | size) & 0xFFF) != 0 || size == 0 || rights == GuestPageRights.None) return NovaStatus.InvalidParameter;
        if (hostPhysical + size > Machine.Memory.RamSize || hostPhysical + size < hostPhysical ||
            (hostPhysical < Memory.Base + Memory.Size + Kernel.HostEnvironment.AreaSize && hostPhysical + size > Memory.Base))
            return NovaStatus.InvalidParameter;
        pd.EnsureGuestSpace().Map(guestPhysical, hostPhysical, size, rights);
        FlushGuestTranslations(pd);
        return NovaStatus.Success;
    }

    /// <summary>revoke of a memory range in a PD's guest-physical space.</summary>
    public NovaStatus RevokeMemory(ulong targetPd, ulong guestPhysical, ulong size)
    {
        ChargeSyscall();
        var pd = CallerSpace.Lookup<Pd>(targetPd);
        if (pd == null) return NovaStatus.InvalidSelector;
        if (((guestPhysical | size) & 0xFFF) != 0 || size == 0 || guestPhysical + size > FourLevelGuestPhysicalSpace.GuestPhysicalLimit || guestPhysical + size < guestPhysical) return NovaStatus.InvalidParameter;
        pd.GuestSpace?.Unmap(guestPhysical, size);
        FlushGuestTranslations(pd);
        return NovaStatus.Success;
    }

    /// <summary>revoke of an object capability: what was delegated from it, and itself when <paramref name="self"/>.</summary>
    public NovaStatus Revoke(ulong selector, bool self)
    {
        ChargeSyscall();
        var space = CallerSpace;
        if (space.Lookup(selector) == null) return NovaStatus.InvalidSelector;
        space.Revoke(selector, self);
        return NovaStatus.Success;
    }

    /// <summary>lookup: what the caller's selector names, or null (NOVA returns a null CRD).</summary>
    public Capability? Lookup(ulong selector)
    {
        ChargeSyscall();
        return CallerSpace.Lookup(selector);
    }

    /// <summary>
    /// The register-level entry: the hypercall number in the low byte of the first word and the
    /// arguments as NOVA passes them, for the calls without C# arguments; an unknown number is
    /// <see cref="NovaStatus.InvalidHypercall"/>.
    /// </summary>
    public NovaStatus Syscall(ulong word0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0)
    {
        var number = (Hypercall)(word0 & 0xFF);
        var op = (word0 >> 8) & 0xF;
        return number switch
        {
            Hypercall.CreatePd => CreatePd(a1, a2),
            Hypercall.CreateSm => CreateSm(a1, a2, a3),
            Hypercall.PtCtrl => PtCtrl(a1, a2),
            Hypercall.EcCtrl when op == 0 => EcRecall(a1),
            Hypercall.EcCtrl when op == 6 => EcGetVcpuState(a1, (Mtd)a2),
            Hypercall.EcCtrl when op == 7 => EcSetVcpuState(a1, a2 != 0),
            Hypercall.EcCtrl => InvalidHypercall(),
            Hypercall.SmCtrl when op == 0 => SmUp(a1),
            Hypercall.Revoke => Revoke(a1, (op & 1) != 0),
            Hypercall.SmCtrl or Hypercall.Call or Hypercall.Reply or Hypercall.CreateEc or Hypercall.CreateSc or Hypercall.CreatePt
                or Hypercall.Lookup or Hypercall.ScCtrl or Hypercall.AssignPci or Hypercall.AssignGsi or Hypercall.PdCtrl => InvalidParameter(),
            _ => InvalidHypercall(),
        };
    }

    private NovaStatus InvalidHypercall()
    {
        ChargeSyscall();
        return NovaStatus.InvalidHypercall;
    }

    private NovaStatus InvalidParameter()
    {
        ChargeSyscall();
        return NovaStatus.InvalidParameter;
    }
}
