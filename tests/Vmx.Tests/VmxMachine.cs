using Iced.Intel;
using Sim.Cpu;

namespace Sim.Vmx.Tests;

/// <summary>
/// The kernel machinery's <see cref="VmxHostMachine"/> with the tests' bus, assembled guest code and
/// assertions: every set-up step and VMX instruction must succeed, every run must end in one VM exit.
/// </summary>
public sealed class VmxMachine : VmxHostMachine
{
    public VmxMachine(int cpus = 1) : this(cpus, new TestBus { ReadValue = 0x5A })
    {
    }

    private VmxMachine(int cpus, TestBus bus) : base(cpus, bus)
    {
        Bus = bus;
    }

    internal TestBus Bus { get; }

    /// <summary>VMXON, VMCLEAR and VMPTRLD of the VMCS, then the baseline VMCS.</summary>
    public VmxMachine Ready(int cpu = 0, ulong vmcs = VmcsRegion)
    {
        Assert.AreEqual(VmxResult.Succeed, EnterVmxOperation(cpu, vmcs));
        return this;
    }

    public void Write(VmcsField field, ulong value, int cpu = 0) => Assert.AreEqual(VmxResult.Succeed, Units[cpu].Vmwrite(field, value), field.ToString());

    public ulong Read(VmcsField field, int cpu = 0)
    {
        Assert.AreEqual(VmxResult.Succeed, Units[cpu].Vmread(field, out var value), field.ToString());
        return value;
    }

    public void Baseline(VmxUnit u) => Assert.AreEqual(VmxResult.Succeed, WriteBaseline(u));

    /// <summary>Assembles 64-bit guest code at <paramref name="address"/>.</summary>
    public void Code(Action<Assembler> build, ulong address = GuestCode, int bitness = 64) =>
        Memory.WriteBytes(address, IcedAssembly.Assemble(bitness, address, build));

    public void SetControl(VmcsField field, uint set, uint clear = 0, int cpu = 0) =>
        Write(field, (Read(field, cpu) | set) & ~(ulong)clear, cpu);

    /// <summary>VMLAUNCH, then runs the processor until the unit reports a VM exit; returns the exit.</summary>
    public VmExitInfo LaunchAndRun(int cpu = 0, ulong cycles = 1_000_000)
    {
        Assert.AreEqual(VmxResult.Succeed, Units[cpu].Vmlaunch());
        return RunToExit(cpu, cycles);
    }

    public VmExitInfo RunToExit(int cpu = 0, ulong cycles = 1_000_000)
    {
        var before = Exits.Count;
        var stop = Cpus[cpu].Run(Cpus[cpu].Cycles + cycles);
        Assert.AreEqual(StopReason.VmExit, stop, $"no VM exit: RIP={Cpus[cpu].Rip:x} pending={Cpus[cpu].PendingException}");
        Assert.AreEqual(before + 1, Exits.Count);
        Assert.IsFalse(Units[cpu].InNonRootOperation);
        return Exits[^1];
    }

    /// <summary>A 32-bit guest with paging off under an identity EPT (unrestricted guest), IDT of 8-byte gates at <paramref name="idt"/>.</summary>
    public static VmxMachine ProtectedModeGuest(ulong idt = 0)
    {
        var m = new VmxMachine().Ready();
        m.MakeProtectedModeGuest(idt);
        return m;
    }
}
