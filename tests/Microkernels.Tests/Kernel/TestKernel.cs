using Sim.Microkernels.Kernel;
using Sim.Platform;

namespace Sim.Microkernels.Tests.Kernel;

/// <summary>The shared machinery with no kernel ABI on top: threads, semaphores and timeouts only.</summary>
internal sealed class TestKernel : KernelModel
{
    public TestKernel(Machine machine) : base(machine)
    {
    }

    public List<string> Log { get; } = new();

    public List<(int Cpu, int From, int To)> Switches { get; } = new();

    public HostThread Start(string name, int cpu, int priority, Func<HostThread, Task> body, ulong quantum = 10_000)
    {
        HostThread? thread = null;
        thread = Register(new HostThread(name, priority, quantum, () => body(thread!)), Processors[cpu]);
        Processors[cpu].Scheduler.MakeReady(thread);
        return thread;
    }

    protected override void OnThreadSwitch(KernelProcessor processor, KernelThread? from, KernelThread to)
    {
        base.OnThreadSwitch(processor, from, to);
        Switches.Add((processor.Index, from?.Id ?? -1, to.Id));
    }

    public void Finish() => Machine.Control.RequestExit(RunOutcome.Finished, 0, "finished");
}
