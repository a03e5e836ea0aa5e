namespace Sim.Microkernels.Nova;

/// <summary>A NOVA kernel object (NOVA's <c>Kobject</c>): what an object capability names.</summary>
public abstract class KernelObject
{
    protected KernelObject(NovaKernel kernel) => Kernel = kernel;

    public NovaKernel Kernel { get; }
}
