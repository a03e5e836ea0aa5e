using Sim.Vmm.Genode;
using Sim.Vmm.Tests.TestDoubles;

namespace Sim.Vmm.Tests;

[TestClass]
public sealed class VmConnectionTests
{
    private sealed class AttachOnlySession : VmSessionComponent
    {
        protected override AttachResult AttachVmMemory(IRamDataspace dataspace, ulong guestPhys, AttachAttr attr) => AttachResult.Ok;

        protected override void DetachVmMemory(ulong guestPhys, ulong size)
        {
        }

        public override void Dispose()
        {
        }
    }

    private sealed class Backend(IVmSession? session) : IVmBackend
    {
        public VmSessionArgs Args { get; private set; }

        public IVmSession? OpenSession(IGenodeEnv env, VmSessionArgs args)
        {
            Args = args;
            return session;
        }
    }

    private static FakeEnv Env() => new(new FakeMachine(), VirtualizationKind.Vmx);

    [TestMethod]
    public void TheSessionArgumentsReachTheBackend()
    {
        var backend = new Backend(new AttachOnlySession());
        using var vm = new VmConnection(Env(), backend, "vmm", 2, 1);
        Assert.AreEqual(new VmSessionArgs("vmm", 2, 1), backend.Args);
    }

    [TestMethod]
    public void WithoutASessionTheConnectionCannotBeOpened()
    {
        Assert.ThrowsExactly<InvalidOperationException>(() => new VmConnection(Env(), new Backend(null)));
    }

    [TestMethod]
    public void AnApiTheKernelLacksIsReportedNotCrashedInto()
    {
        var env = Env();
        using var vm = new VmConnection(env, new Backend(new AttachOnlySession()));
        Assert.IsFalse(vm.Supports2019);
        Assert.IsFalse(vm.SupportsCurrent);
        var handler = new VmHandler<object>(env.Ep, new object(), _ => { });
        Assert.ThrowsExactly<InvalidOperationException>(() => vm.CreateVcpu(handler));
    }

    [TestMethod]
    public void UnknownVcpuIdsAreIgnored()
    {
        var machine = new FakeMachine();
        var env = new FakeEnv(machine, VirtualizationKind.Vmx);
        using var vm = new VmConnection(env, new FakeVmBackend(machine));
        Assert.IsNull(vm.CpuState(new VcpuId(0)));
        vm.Run(new VcpuId(3));
        vm.Pause(new VcpuId(3));
        var id = vm.CreateVcpu(new VmHandler<object>(env.Ep, new object(), _ => { }));
        Assert.AreEqual(new VcpuId(0), id);
        Assert.IsNotNull(vm.CpuState(id));
    }

    [TestMethod]
    public void ACurrentApiVcpuIsStartedWhenConstructed()
    {
        var machine = new FakeMachine();
        var env = new FakeEnv(machine, VirtualizationKind.Vmx);
        using var vm = new VmConnection(env, new FakeVmBackend(machine));
        uint exit = 0;
        VmConnection.Vcpu? vcpu = null;
        var handler = new VcpuHandler<object>(env.Ep, new object(), _ => vcpu!.WithState(s =>
        {
            exit = s.ExitReason;
            return false;
        }));
        vcpu = new VmConnection.Vcpu(vm, handler, ExitConfig.Default);
        Assert.AreEqual(0u, exit, "no exit is dispatched from within the constructor");
        machine.RunUntil(() => exit != 0, 10);
        Assert.AreEqual(VmExitReason.Startup, exit);
    }

    [TestMethod]
    public void AClosedConnectionRefusesAttach()
    {
        var env = Env();
        var vm = new VmConnection(env, new Backend(new AttachOnlySession()));
        var ds = env.AllocRam(0x1000);
        Assert.AreEqual(AttachResult.Ok, vm.Attach(ds, 0x1000));
        vm.Dispose();
        Assert.AreEqual(AttachResult.InvalidDataspace, vm.Attach(ds, 0x2000));
    }
}
