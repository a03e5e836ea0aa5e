using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

/// <summary>Test double of a kernel's base library: entrypoints, RAM, timer and LOG on a <see cref="FakeMachine"/>.</summary>
public sealed class FakeEnv : IGenodeEnv
{
    private ulong _nextCap = 1;

    public FakeEnv(FakeMachine machine, VirtualizationKind virtualization, int cpus = 2)
    {
        Machine = machine;
        Virtualization = virtualization;
        CpuCount = cpus;
        Ep = new FakeEntrypoint(machine, "ep", 0);
    }

    public FakeMachine Machine { get; }

    public List<string> Lines { get; } = [];

    public IEntrypoint Ep { get; }

    public int CpuCount { get; }

    public VirtualizationKind Virtualization { get; }

    public IEntrypoint CreateEntrypoint(string name, int cpu) => new FakeEntrypoint(Machine, name, cpu);

    public IRamDataspace? AllocRam(ulong size) => new FakeRamDataspace(_nextCap++, (size + 0xfff) & ~0xfffUL);

    public void FreeRam(IRamDataspace dataspace)
    {
        if (dataspace is FakeRamDataspace ds)
            ds.Cap = DataspaceCapability.Invalid;
    }

    public ITimerConnection OpenTimer() => new FakeTimer(Machine);

    public void Log(string line) => Lines.Add(line);

    public void Warning(string message) => Lines.Add("Warning: " + message);

    public void Error(string message) => Lines.Add("Error: " + message);

    /// <summary>TSC_AUX holds the CPU of the calling entrypoint, as NOVA and base-hw program it.</summary>
    public (ulong Tsc, uint TscAux) Rdtscp() => (Machine.Now * 1000, (uint)(Machine.Current?.Cpu ?? 0));
}
