using Iced.Intel;
using Sim.Cpu.Memory;

namespace Sim.Svm.Tests;

/// <summary>
/// The kernel machinery's <see cref="SvmHostMachine"/> with the tests' bus, assembled guest code and
/// assertions: VMRUN must succeed and every run must end in exactly one #VMEXIT.
/// </summary>
internal sealed class SvmTestMachine : SvmHostMachine
{
    public SvmTestMachine(PhysicalMemory? shared = null, int index = 0, ulong memorySize = 16 << 20)
        : this(shared, index, memorySize, new TestBus { ReadValue = 0x5A5A5A5A })
    {
    }

    private SvmTestMachine(PhysicalMemory? shared, int index, ulong memorySize, TestBus bus) : base(shared, index, memorySize, bus)
    {
        Bus = bus;
    }

    public TestBus Bus { get; }

    public static byte[] Assemble(int bitness, ulong address, Action<Assembler> build) => IcedAssembly.Assemble(bitness, address, build);

    public void Code(int bitness, ulong address, Action<Assembler> build) => Memory.WriteBytes(address, Assemble(bitness, address, build));

    public void GuestProgram(Action<Assembler> build, int bitness = 32) => Code(bitness, GuestCode, build);

    /// <summary>VMRUN through the unit's C# API, then runs the guest until the next #VMEXIT.</summary>
    public void RunGuest(ulong cycles = 1_000_000)
    {
        var before = Exits;
        Assert.AreEqual(SvmResult.Success, Unit.Vmrun(VmcbPa), $"VMRUN failed: {Unit.LastConsistencyFailure}");
        if (Exits == before) Cpu.Run(Cpu.Cycles + cycles);
        Assert.AreEqual(before + 1, Exits, $"expected one #VMEXIT; RIP={Cpu.Rip:x} in guest={Unit.InGuest}");
    }

    /// <summary>Runs a guest expected to exit with <paramref name="exitCode"/> and returns the VMCB.</summary>
    public Vmcb RunToExit(ulong exitCode)
    {
        RunGuest();
        var v = Vmcb;
        Assert.AreEqual(exitCode, v.ExitCode, $"EXITCODE {v.ExitCode:x} (guest RIP {v.Read(VmcbLayout.Rip, 8):x})");
        return v;
    }
}
