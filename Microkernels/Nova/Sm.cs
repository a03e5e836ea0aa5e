using Sim.Microkernels.Kernel;

namespace Sim.Microkernels.Nova;

/// <summary>A NOVA semaphore: sm_ctrl up, down (with an absolute TSC timeout) and downzero.</summary>
public sealed class Sm : KernelObject
{
    public Sm(NovaKernel kernel, ulong count) : base(kernel) => Semaphore = new CountingSemaphore(count);

    public CountingSemaphore Semaphore { get; }
}
