using Microsoft.Extensions.DependencyInjection;
using Sim.Cpu;
using Sim.Microkernels.Nova.Genode;
using Sim.Platform;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>
/// A VM exit round trip through NOVA's portal, Genode's current VM library and a VMM's with_state handler runs on every
/// exit a VMM handles, so once warmed up it must not allocate: a run of more round trips allocates no more than a run of
/// fewer (what a run of the machine allocates itself is the same for both).
/// </summary>
[TestClass]
public sealed class ExitRoundTripAllocationTests
{
    private const ulong GuestPage = 0xffff_f000;

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void AWarmedUpCpuidRoundTripAllocatesNothing(CpuVendor vendor)
    {
        using var machine = new Machine(new MachineConfig { Cpus = 1, Vendor = vendor, MemoryBytes = 64UL << 20 });
        using var services = new ServiceCollection().AddNova(machine).BuildServiceProvider();
        var vmm = new CpuidVmm(machine, services.GetRequiredService<IVmBackend>(), vendor == CpuVendor.Amd);
        services.GetRequiredService<NovaCore>().Launch(vmm, "vmm", _ => { });
        Assert.AreEqual(RunOutcome.Stopped, machine.Run().Outcome);
        Run(machine, vmm, 20_000);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(machine, vmm, 100);
        var few = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Run(machine, vmm, 10_100);
        var many = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsNull(vmm.Failure);
        Assert.AreEqual(few, many, $"{many - few} bytes for 10,000 more round trips");
    }

    private static void Run(Machine machine, CpuidVmm vmm, ulong count)
    {
        var start = vmm.Exits;
        vmm.StopAt = start + count;
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.Stopped, result.Outcome, result.Message + " " + vmm.Failure);
        Assert.AreEqual(start + count, vmm.Exits, vmm.Failure);
    }

    /// <summary>Its real-mode guest loops over CPUID at the reset vector; each CPUID exit steps IP over the instruction and resumes.</summary>
    private sealed class CpuidVmm(Machine machine, IVmBackend backend, bool svm) : IComponent
    {
        private VmConnection.Vcpu _vcpu = null!;
        private Func<VcpuState, bool> _handleExit = null!;

        public ulong Exits, StopAt;

        public string? Failure;

        public void Construct(IGenodeEnv env)
        {
            var vm = new VmConnection(env, backend);
            var ram = env.AllocRam(0x1000)!;
            // xor ax, ax; cpuid; jmp short back to the xor.
            ram.Write(0xff0, [0x31, 0xC0, 0x0F, 0xA2, 0xEB, 0xFA]);
            Assert.AreEqual(AttachResult.Ok, vm.Attach(ram, GuestPage));
            _handleExit = HandleExit;
            var handler = new VcpuHandler<CpuidVmm>(env.Ep, this, static v => v._vcpu.WithState(v._handleExit));
            _vcpu = new VmConnection.Vcpu(vm, handler, ExitConfig.Default);
        }

        private bool HandleExit(VcpuState state)
        {
            var exit = state.ExitReason;
            state.Discharge();
            if (exit == VmExitReason.Startup)
            {
                state.Flags.Charge(2);
                state.Ip.Charge(0xfff0);
                state.Cr0.Charge(0x10);
                var data = new Segment(0, 0x93, 0xffff, 0);
                state.Cs.Charge(new Segment(0xf000, 0x93, 0xffff, 0xffff0000));
                state.Ss.Charge(data);
                state.Es.Charge(data);
                state.Ds.Charge(data);
                state.Fs.Charge(data);
                state.Gs.Charge(data);
                state.Tr.Charge(new Segment(0, 0x8b, 0xffff, 0));
                state.Ldtr.Charge(new Segment(0, 0x1000, 0xffff, 0));
                state.Gdtr.Charge(new VcpuState.Range(0, 0xffff));
                state.Idtr.Charge(new VcpuState.Range(0, 0xffff));
                // CPUID always exits on VT-x; AMD-V needs its intercept (VMCB 0x0C bit 18) and VMRUN's (0x10 bit 0).
                state.CtrlPrimary.Charge(svm ? 1u << 18 : 0);
                state.CtrlSecondary.Charge(svm ? 1u : 1u << 7);
                machine.Control.RequestExit(RunOutcome.Stopped, 0, "started");
                return true;
            }
            if (exit != (svm ? 0x72u : 0x0au))
            {
                Failure = $"unexpected exit {exit:x}";
                machine.Control.RequestExit(RunOutcome.Stopped, 1, "unexpected exit");
                return false;
            }
            state.Ip.Charge(state.Ip.Value + (svm ? 2 : state.IpLen.Value));
            if (++Exits == StopAt) machine.Control.RequestExit(RunOutcome.Stopped, 0, "done");
            return true;
        }
    }
}
