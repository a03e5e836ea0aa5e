using Sim.Cpu;
using Sim.Microkernels.Kernel;
using Sim.Microkernels.Nova;
using Sim.Platform;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// The status codes of NOVA's hypercalls for bad arguments (alex-ab/NOVA r10 src/syscall.cpp): a selector that names
/// nothing, an object of the wrong kind or a capability without the needed right is BAD_CAP
/// (<see cref="NovaStatus.InvalidSelector"/>), so is a taken destination selector and an EC of the wrong kind for
/// create_sc/create_pt; bad values are BAD_PAR, an absent CPU BAD_CPU, vCPUs without VMX/SVM BAD_FTR.
/// </summary>
[TestClass]
public sealed class HypercallStatusTests
{
    private const ulong Root = NovaKernel.RootPdSelector;
    private const ulong Sm = 0x200, Local = 0x201, Global = 0x202, Vcpu = 0x203, Pt = 0x204, Free = 0x2FF;

    private static (Machine Machine, NovaKernel Kernel) Boot(int cpus = 1)
    {
        var machine = new Machine(new MachineConfig { Cpus = cpus, MemoryBytes = 64UL << 20 });
        var kernel = new NovaKernel(machine);
        NovaVm.Check(kernel.CreateSm(Sm, Root, 1));
        NovaVm.Check(kernel.CreateEc(Local, Root, 0, utcb: 1, eventBase: 0, global: false, name: "local"));
        NovaVm.Check(kernel.CreateEc(Global, Root, 0, utcb: 1, eventBase: 0, global: true, entry: () => Task.CompletedTask, name: "global"));
        NovaVm.Check(kernel.CreateEc(Vcpu, Root, cpus - 1, utcb: 0, eventBase: 0x400, global: true, name: "vcpu"));
        NovaVm.Check(kernel.CreatePt(Pt, Root, Local, Mtd.None, _ => PortalReply.Resume));
        return (machine, kernel);
    }

    /// <summary>The capability at <paramref name="selector"/> again at <paramref name="copy"/>, with only <paramref name="rights"/>.</summary>
    private static ulong Weakened(NovaKernel kernel, ulong selector, uint rights, ulong copy)
    {
        NovaVm.Check(kernel.DelegateObject(selector, Root, copy, rights));
        return copy;
    }

    [TestMethod]
    public void CreatePdNeedsAPdWithTheCreatePdRightAndAFreeSelector()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePd(Free, Free - 1), "no object");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePd(Free, Sm), "an SM is no PD");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePd(Sm, Root), "taken selector");
        var weak = Weakened(kernel, Root, ObjectRights.All & ~ObjectRights.PdCreatePd, 0x300);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePd(Free, weak), "PD without the PD right");
        Assert.AreEqual(NovaStatus.Success, kernel.CreatePd(Free, Root));
    }

    [TestMethod]
    public void CreateEcChecksTheCpuFirstThenThePdAndTheSelector()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        Assert.AreEqual(NovaStatus.InvalidCpu, kernel.CreateEc(Free, Free - 1, 1, utcb: 1, eventBase: 0, global: false), "CPU 1 of 1, before the bad PD");
        Assert.AreEqual(NovaStatus.InvalidCpu, kernel.CreateEc(Free, Root, -1, utcb: 1, eventBase: 0, global: false));
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateEc(Free, Sm, 0, utcb: 1, eventBase: 0, global: false), "an SM is no PD");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateEc(Local, Root, 0, utcb: 1, eventBase: 0, global: false), "taken selector");
        var weak = Weakened(kernel, Root, ObjectRights.All & ~ObjectRights.PdCreateEc, 0x300);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateEc(Free, weak, 0, utcb: 1, eventBase: 0, global: false), "PD without the EC right");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.CreateEc(Free, Root, 0, utcb: 1, eventBase: 0, global: true), "a global EC needs code");
    }

    [TestMethod]
    public void CreateScRefusesALocalEcWithBadCapAndABadQpdWithBadPar()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateSc(Free, Root, Local, 10), "NOVA: \"Cannot bind SC\" is BAD_CAP");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateSc(Free, Root, Sm, 10), "an SM is no EC");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateSc(Free, Sm, Global, 10), "an SM is no PD");
        var weak = Weakened(kernel, Global, ObjectRights.All & ~ObjectRights.EcCreateSc, 0x300);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateSc(Free, Root, weak, 10), "EC without the SC right");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.CreateSc(Free, Root, Global, 0), "priority 0");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.CreateSc(Free, Root, Global, CpuScheduler.Priorities), "priority beyond the scheduler's");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.CreateSc(Free, Root, Global, 10, quantum: 0), "quantum 0");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.CreateSc(Sm, Root, Global, 0), "the QPD is checked before the selector");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateSc(Sm, Root, Global, 10), "taken selector");
        Assert.AreEqual(NovaStatus.Success, kernel.CreateSc(Free, Root, Global, 10));
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.CreateSc(Free + 1, Root, Global, 10), "the model's one SC per EC");
    }

    [TestMethod]
    public void CreatePtBindsOnlyToALocalEc()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePt(Free, Root, Global, Mtd.None, _ => PortalReply.Resume), "NOVA: \"Cannot bind PT\" is BAD_CAP");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePt(Free, Root, Vcpu, Mtd.None, _ => PortalReply.Resume), "a vCPU is global");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePt(Free, Root, Sm, Mtd.None, _ => PortalReply.Resume), "an SM is no EC");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePt(Pt, Root, Local, Mtd.None, _ => PortalReply.Resume), "taken selector");
        var weak = Weakened(kernel, Local, ObjectRights.All & ~ObjectRights.EcCreatePt, 0x300);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePt(Free, Root, weak, Mtd.None, _ => PortalReply.Resume), "EC without the PT right");
        var noPt = Weakened(kernel, Root, ObjectRights.All & ~ObjectRights.PdCreatePt, 0x301);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreatePt(Free, noPt, Local, Mtd.None, _ => PortalReply.Resume), "PD without the PT right");
        Assert.AreEqual(NovaStatus.Success, kernel.CreatePt(Free, Root, Local, Mtd.None, _ => PortalReply.Resume));
    }

    [TestMethod]
    public void CreateSmAndPtCtrlNeedTheirRights()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateSm(Pt, Root), "taken selector");
        var noSm = Weakened(kernel, Root, ObjectRights.All & ~ObjectRights.PdCreateSm, 0x300);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.CreateSm(Free, noSm), "PD without the SM right");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.PtCtrl(Sm, 1), "an SM is no PT");
        var noCtrl = Weakened(kernel, Pt, ObjectRights.All & ~ObjectRights.PtCtrl, 0x301);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.PtCtrl(noCtrl, 1), "PT without the CTRL right");
        Assert.AreEqual(NovaStatus.Success, kernel.PtCtrl(Pt, 1));
    }

    [TestMethod]
    public void SmCtrlUpAndDownNeedTheirOwnRights()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        var downOnly = Weakened(kernel, Sm, ObjectRights.SmDown, 0x300);
        var upOnly = Weakened(kernel, Sm, ObjectRights.SmUp, 0x301);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.SmUp(downOnly), "up without RIGHT_SM_UP");
        Assert.AreEqual(NovaStatus.InvalidSelector, (NovaStatus)kernel.SmDown(upOnly).GetResult(), "down without RIGHT_SM_DOWN");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.SmUp(Local), "an EC is no SM");
        Assert.AreEqual(NovaStatus.Success, kernel.SmUp(upOnly));
        Assert.AreEqual(NovaStatus.Success, (NovaStatus)kernel.SmDown(downOnly).GetResult(), "the SM holds 2");
        Assert.AreEqual(NovaStatus.Success, (NovaStatus)kernel.SmDown(downOnly).GetResult());
        Assert.AreEqual(NovaStatus.Timeout, (NovaStatus)kernel.SmDown(downOnly).GetResult(), "code outside every thread cannot block");
    }

    [TestMethod]
    public void DownZeroTakesTheWholeCount()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        for (var i = 0; i < 4; i++) NovaVm.Check(kernel.SmUp(Sm));
        Assert.AreEqual(5UL, kernel.RootPd.Objects.Lookup<Sm>(Sm)!.Semaphore.Count);
        Assert.AreEqual(NovaStatus.Success, (NovaStatus)kernel.SmDown(Sm, zero: true).GetResult());
        Assert.AreEqual(0UL, kernel.RootPd.Objects.Lookup<Sm>(Sm)!.Semaphore.Count, "SEMAPHORE_DOWNZERO: counter = 0");
        Assert.AreEqual(NovaStatus.Timeout, (NovaStatus)kernel.SmDown(Sm, zero: true).GetResult());
    }

    [TestMethod]
    public void EcCtrlNeedsTheRecallRightAndVcpuStateOnlyFromTheVcpusCpu()
    {
        var (machine, kernel) = Boot(cpus: 2);
        using var _ = machine;
        var noRecall = Weakened(kernel, Vcpu, ObjectRights.All & ~ObjectRights.EcRecall, 0x300);
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.EcRecall(noRecall), "recall without RIGHT_EC_RECALL");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.EcRecall(Sm), "an SM is no EC");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.EcGetVcpuState(noRecall, Mtd.RipLen));
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.EcSetVcpuState(noRecall, recall: false));
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.EcGetVcpuState(Local, Mtd.RipLen), "no vCPU");
        Assert.AreEqual(NovaStatus.InvalidCpu, kernel.EcGetVcpuState(Vcpu, Mtd.RipLen), "the vCPU is on CPU 1, the caller on CPU 0");
        Assert.AreEqual(NovaStatus.InvalidCpu, kernel.EcSetVcpuState(Vcpu, recall: true));
        Assert.IsFalse(kernel.RootPd.Objects.Lookup<Ec>(Vcpu)!.RecallHazard, "a refused get sets no hazard");
        Assert.AreEqual(NovaStatus.Success, kernel.EcRecall(Vcpu));
        Assert.IsTrue(kernel.RootPd.Objects.Lookup<Ec>(Vcpu)!.RecallHazard);
    }

    [TestMethod]
    public void TheRegisterLevelEntryRefusesUnknownNumbersAndDispatchesEcCtrlOps()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        Assert.AreEqual(NovaStatus.InvalidHypercall, kernel.Syscall(0x10));
        Assert.AreEqual(NovaStatus.InvalidHypercall, kernel.Syscall(0xFF));
        Assert.AreEqual(NovaStatus.InvalidHypercall, kernel.Syscall((ulong)Hypercall.EcCtrl | 5 << 8, Vcpu), "EC_TIME is not modelled");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.Syscall((ulong)Hypercall.EcCtrl, Free), "ec_ctrl recall of nothing");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.Syscall((ulong)Hypercall.EcCtrl | 6 << 8, Local, (ulong)Mtd.RipLen), "EC_GET_VCPU_STATE of a local EC");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.Syscall((ulong)Hypercall.SmCtrl, Free), "sm_ctrl up of nothing");
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.Syscall((ulong)Hypercall.CreateSm, Free, Sm), "create_sm in an SM");
        Assert.AreEqual(NovaStatus.Success, kernel.Syscall((ulong)Hypercall.CreateSm, Free, Root, 3));
        Assert.AreEqual(3UL, kernel.RootPd.Objects.Lookup<Sm>(Free)!.Semaphore.Count);
    }

    [TestMethod]
    public void MemoryDelegationMustBePageAlignedInRamAndOutsideKernelMemory()
    {
        var (machine, kernel) = Boot();
        using var _ = machine;
        NovaVm.Check(kernel.CreatePd(0x300, Root, "vm"));
        const ulong ram = 0x200000;
        Assert.AreEqual(NovaStatus.InvalidSelector, kernel.DelegateMemory(Sm, ram, 0, 0x1000, GuestPageRights.All), "an SM is no PD");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, ram + 0x800, 0, 0x1000, GuestPageRights.All), "host address");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, ram, 0x10, 0x1000, GuestPageRights.All), "guest address");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, ram, 0, 0x1001, GuestPageRights.All), "size");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, ram, 0, 0, GuestPageRights.All), "empty");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, ram, 0, 0x1000, GuestPageRights.None), "no rights");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, kernel.Memory.Base, 0, 0x1000, GuestPageRights.All), "kernel memory");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, kernel.Memory.Base - 0x1000, 0, 0x2000, GuestPageRights.All), "reaching into kernel memory");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.DelegateMemory(0x300, machine.Memory.RamSize - 0x1000, 0, 0x2000, GuestPageRights.All), "beyond RAM");
        Assert.AreEqual(NovaStatus.InvalidParameter, kernel.RevokeMemory(0x300, 0x800, 0x1000), "revoke not aligned");
        Assert.AreEqual(NovaStatus.Success, kernel.DelegateMemory(0x300, ram, 0, 0x1000, GuestPageRights.All));
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void EveryProcessorOfTheMachineOffersVirtualizationSoVcpusAreAccepted(CpuVendor vendor)
    {
        // The PC model gives every processor VMX (Intel) or SVM (AMD); a machine without either cannot be built, so
        // BAD_FTR for a vCPU is unreachable here.
        using var machine = new Machine(new MachineConfig { Vendor = vendor, MemoryBytes = 64UL << 20 });
        var kernel = new NovaKernel(machine);
        Assert.IsTrue(kernel.VirtualizationAvailable);
        Assert.AreEqual(NovaStatus.Success, kernel.CreateEc(0x300, Root, 0, utcb: 0, eventBase: 0, global: true));
    }
}
